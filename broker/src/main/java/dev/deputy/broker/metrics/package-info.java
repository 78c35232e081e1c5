/**
 * Micrometer meters of the broker, published in the Prometheus text format on the management port
 * ({@code DEPUTY_MANAGEMENT_PORT}; docs/observability.md lists every series). Domain packages report through their
 * own small ports ({@code oauth.TokenMetrics}, {@code audit.AuditLog.Observer}); the meters are created once and
 * cached here, so a request costs a map lookup and an atomic add, never a registry lookup. Label values are bounded:
 * tenants, grant types, client authentication methods, OAuth error codes, policy rule ids, route templates. Never a
 * client id (DCR makes them unbounded) nor a user id.
 */
package dev.deputy.broker.metrics;
