"""The embeddable web chat widget: its static assets, the demo page and CORS for widget origins.

Widget keys live in advisor.auth.widget_keys; their limits are the chat core's admission."""
