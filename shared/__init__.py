"""galley's shared schema package.

The one place where stream names, consumer groups, event types, the event
envelope and the article models are spelled. Every service and every
downstream subscriber imports it; it imports no service.
"""
