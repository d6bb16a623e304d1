"""The Slack bot: Events API (HTTP, /slack/events) or Socket Mode, on the chat core.

Shaped like Netflix Dispatch's Slack plugin: ``app`` builds the bolt App from settings, ``handlers``
registers the listeners, ``threads`` does the work, ``blocks`` renders answers. Importing this
package is cheap; slack_bolt is only imported by ``app``.
"""
