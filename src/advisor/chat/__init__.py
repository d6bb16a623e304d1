"""The chat core every channel calls: admission, conversations, the turn pipeline, typed results and
events, and the composer fallback policy. Entry point: ``ChatService`` (built by the container)."""
