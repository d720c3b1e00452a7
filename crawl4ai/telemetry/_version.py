"""The add-on's own version, reported beside Crawl4AI's."""

__version__ = "0.1.0"
