"""Cleaning steps, one module each, run in order by `cleaning.run.clean_document`."""
