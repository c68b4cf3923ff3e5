"""The words that dates are written with, in the languages portals publish in: month names (full,
abbreviated, and the genitive forms Slavic and Finnish dates use), weekdays, and the labels that
stand before a publication or an update date ("Veröffentlicht", "Mis à jour le", "Güncelleme").

Data only; `dates` builds its patterns from it. Month numbers are 1-12. A word that means two
months in two languages (Croatian "listopad" is October, Czech and Polish November) is left to the
more widely published language.

Why not dateparser, which knows 200 languages: measured here, it takes about 2 ms per date text
once warm (240 ms for its first German one), and its search in running text finds dates in plain
words ("Die" became a date in a German paragraph, 66 ms per KB). These tables cost microseconds
and find dates only where a day, a month and a year stand together.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

_MONTHS_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    # One string per month: its spellings, space-separated.
    "en": ("january jan", "february feb", "march mar", "april apr", "may", "june jun", "july jul",
           "august aug", "september sep sept", "october oct", "november nov", "december dec"),
    "fr": ("janvier janv", "février fevrier févr fevr fév fev", "mars", "avril avr", "mai", "juin",
           "juillet juil", "août aout", "septembre", "octobre", "novembre", "décembre decembre déc"),
    "de": ("januar jänner jän", "februar feber", "märz maerz mär mrz", "april", "mai", "juni", "juli",
           "august", "september", "oktober okt", "november", "dezember dez"),
    "it": ("gennaio gen", "febbraio", "marzo", "aprile", "maggio mag", "giugno giu", "luglio lug",
           "agosto ago", "settembre set", "ottobre ott", "novembre", "dicembre dic"),
    "es": ("enero ene", "febrero", "marzo", "abril abr", "mayo", "junio", "julio", "agosto",
           "septiembre setiembre", "octubre", "noviembre", "diciembre"),
    "pt": ("janeiro", "fevereiro", "março marco", "abril", "maio", "junho", "julho", "agosto", "setembro",
           "outubro out", "novembro", "dezembro"),
    "nl": ("januari", "februari", "maart mrt", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december"),
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
           "november", "december"),
    "da": ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
           "november", "december desember"),
    "fi": ("tammikuuta tammikuu", "helmikuuta helmikuu", "maaliskuuta maaliskuu", "huhtikuuta huhtikuu",
           "toukokuuta toukokuu", "kesäkuuta kesäkuu", "heinäkuuta heinäkuu", "elokuuta elokuu",
           "syyskuuta syyskuu", "lokakuuta lokakuu", "marraskuuta marraskuu", "joulukuuta joulukuu"),
    "tr": ("ocak", "şubat subat", "mart", "nisan", "mayıs mayis", "haziran", "temmuz", "ağustos agustos",
           "eylül eylul", "ekim", "kasım kasim", "aralık aralik"),
    "pl": ("stycznia styczeń", "lutego luty", "marca marzec", "kwietnia kwiecień", "maja", "czerwca czerwiec",
           "lipca lipiec", "sierpnia sierpień", "września wrzesień", "października październik",
           "listopada", "grudnia grudzień"),
    "cs": ("ledna leden", "února únor", "března březen", "dubna duben", "května květen", "června červen",
           "července červenec", "srpna srpen", "září", "října říjen", "listopadu", "prosince prosinec"),
    "ro": ("ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august", "septembrie",
           "octombrie", "noiembrie", "decembrie"),
    "hu": ("január", "február", "március", "április", "május", "június", "július", "augusztus", "szeptember",
           "október", "november", "december"),
    "id": ("januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober",
           "november", "desember"),
    "ru": ("января январь", "февраля февраль", "марта март", "апреля апрель", "мая май", "июня июнь",
           "июля июль", "августа август", "сентября сентябрь", "октября октябрь", "ноября ноябрь",
           "декабря декабрь"),
    "uk": ("січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня",
           "листопада", "грудня"),
    "bg": ("януари", "февруари", "март", "април", "май", "юни", "юли", "август", "септември", "октомври",
           "ноември", "декември"),
    "el": ("ιανουαρίου", "φεβρουαρίου", "μαρτίου", "απριλίου", "μαΐου", "ιουνίου", "ιουλίου", "αυγούστου",
           "σεπτεμβρίου", "οκτωβρίου", "νοεμβρίου", "δεκεμβρίου"),
}

_WEEKDAYS = (
    "monday mon tuesday tue tues wednesday wed thursday thu thur thurs friday fri saturday sat sunday sun "
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag mo di mi do fr sa so "
    "lunedì martedì mercoledì giovedì venerdì sabato domenica lun mar mer gio ven sab dom "
    "lunes martes miércoles jueves viernes sábado domingo "
    "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira segunda terça quarta quinta sexta "
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag "
    "måndag tisdag onsdag torsdag fredag lördag söndag mandag tirsdag lørdag søndag "
    "pazartesi salı çarşamba perşembe cuma cumartesi pazar "
    "poniedziałek wtorek środa czwartek piątek sobota niedziela "
    "понедельник вторник среда четверг пятница суббота воскресенье"
)

# Labels before a publication date. Longer phrases first is not needed: patterns sort them.
PUBLISHED_LABELS = (
    "published", "published on", "publication date", "date published", "first published", "posted", "posted on",
    "date", "created", "released", "issued",
    "publié le", "publiée le", "publié", "mise en ligne le", "mise en ligne", "date de publication", "paru le",
    "veröffentlicht am", "veröffentlicht", "erstellt am", "erstellt", "erschienen am", "erschienen", "datum",
    "stand", "publiziert am", "publiziert",
    "pubblicato il", "pubblicato", "pubblicata il", "data di pubblicazione", "data",
    "publicado el", "publicado", "publicada", "fecha de publicación", "fecha", "publicado em",
    "gepubliceerd op", "gepubliceerd", "geplaatst op", "geplaatst",
    "publicerad", "publiceret", "publisert", "julkaistu",
    "opublikowano", "publikováno", "publicat", "közzétéve", "diterbitkan",
    "yayınlanma tarihi", "yayınlanma", "yayınlandı", "yayın tarihi", "tarih",
    "опубликовано", "дата публикации", "дата", "δημοσιεύθηκε",
)
# Labels before the date of the last change.
UPDATED_LABELS = (
    "updated", "update", "updates", "last updated", "last update", "page updated", "page last updated",
    "modified", "last modified", "revised", "last revised", "changed",
    "mis à jour le", "mis à jour", "mise à jour le", "mise à jour", "dernière mise à jour", "actualisé le",
    "actualisé", "modifié le", "modifié",
    "aktualisiert am", "aktualisiert", "zuletzt aktualisiert", "letzte aktualisierung", "geändert am",
    "zuletzt geändert",
    "aggiornato il", "aggiornato", "ultimo aggiornamento", "ultima modifica",
    "actualizado el", "actualizado", "actualizada", "última actualización", "atualizado em", "atualizado",
    "atualizada", "última atualização",
    "bijgewerkt op", "bijgewerkt", "laatst bijgewerkt", "gewijzigd op", "gewijzigd",
    "uppdaterad", "opdateret", "oppdatert", "päivitetty",
    "zaktualizowano", "aktualizacja", "aktualizováno", "actualizat", "frissítve", "diperbarui",
    "güncelleme", "güncellendi", "son güncelleme", "güncelleme tarihi",
    "обновлено", "обновлён", "ενημερώθηκε",
)


def _fold_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _month_words() -> dict[str, int]:
    words: dict[str, int] = {}
    for months in _MONTHS_BY_LANGUAGE.values():
        for number, spellings in enumerate(months, 1):
            for word in spellings.split():
                for form in (word, _fold_accents(word)):
                    words.setdefault(form, number)
    return words


MONTH_WORDS: dict[str, int] = _month_words()
WEEKDAY_WORDS: frozenset[str] = frozenset(_WEEKDAYS.split())


def alternation(words: Iterable[str]) -> str:
    """A regular expression matching any of `words`, as a trie (one branch per first letter), so a
    search over a long text does not try every word at every position."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(char).replace("\\ ", r"\s+") + emit(child)
                    for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?"
        return body

    return "(?:" + emit(trie) + ")"
