"""The embeddable web chat widget: its static assets, demo page, widget keys, CORS and rate limits."""
