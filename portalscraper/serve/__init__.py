"""`portalscraper serve`: the archive in Datasette (config), its charts and Atom feeds, the plugins
and templates that show them."""
