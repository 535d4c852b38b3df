"""Lingshou's own display formats (FORMAT_MODULE_PATH), over Django's for the same language."""
