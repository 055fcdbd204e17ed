"""Real-time monitoring: watch rules, the alerts they raise, and their durable delivery.

``rules`` (what is watched, by whom, how loud), ``index`` (the rules resolved to store ids),
``evaluate`` and ``taint`` (a block in, alert drafts out), ``outbox`` (alerts, deliveries and
the processed block in one transaction), ``inbox`` (who reads and acknowledges what),
``delivery`` (webhooks with HMAC signatures, NATS JetStream), ``follow`` (the loop behind
``chaintrail follow``). See docs/MONITORING.md.
"""
