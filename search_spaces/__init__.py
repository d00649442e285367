"""The default search spaces, shipped inside the package as ``autoaccel.search_spaces``."""
