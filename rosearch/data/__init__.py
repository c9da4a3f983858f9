"""Labelled text for a study: embedded corpora, hub datasets, local files."""

from rosearch.data.embedded import download_cache, movie_snippets, read_rated
from rosearch.data.load import SPLITS, load_splits

__all__ = ["SPLITS", "download_cache", "load_splits", "movie_snippets", "read_rated"]
