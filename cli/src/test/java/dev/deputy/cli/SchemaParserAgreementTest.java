package dev.deputy.cli;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.agent.CredentialParser;
import dev.deputy.broker.agent.CredentialSpec;
import dev.deputy.broker.authorize.ClientFile;
import dev.deputy.broker.config.AgentFile;
import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.config.PolicyFiles;
import dev.deputy.broker.config.ResourceFile;
import dev.deputy.broker.config.RoleFile;
import dev.deputy.broker.config.TenantFile;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.federation.TenantConnectors;
import dev.deputy.broker.federation.TrustedIssuer;
import dev.deputy.broker.policy.Policies;
import dev.deputy.broker.registration.RegistrationPolicy;
import dev.deputy.cli.ConfigCheck.Kind;
import dev.deputy.connectors.ConnectorConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped JSON Schemas (with validate's own rules) tested against the broker's parser: for a corpus of files of
 * every kind — the real shapes of config/ and docs/, and the bad inputs of issue 17 — {@code deputy validate}'s
 * verdict on one file must equal the verdict of the code the broker reads that file with (the record constructors
 * through {@link YamlFiles}, {@link PolicyFiles}, {@link Policies}, the connector library, and the checks apply makes
 * without a database). Each case also states its expected verdict, so the corpus cannot pass by both sides agreeing
 * on nothing. The few places where validate is deliberately stricter than the broker's file reader are listed apart
 * ({@link #validateIsStricterWhereTheBrokerFailsLater}).
 */
class SchemaParserAgreementTest {
    @TempDir
    Path tmp;

    record Case(Kind kind, String name, boolean valid, String yaml) {
    }

    static Case ok(Kind k, String name, String yaml) {
        return new Case(k, name, true, yaml);
    }

    static Case bad(Kind k, String name, String yaml) {
        return new Case(k, name, false, yaml);
    }

    static final String EC_JWK = "{kty: EC, crv: P-256, x: aFa0KKyW4YpTICfGmAgb0yntLupN4qkvG4ZlgUHw5Kc, "
            + "y: yWoAScYdpiqOsq_G-K4Xgm1HiBD_wn-ncUqre9qfAc0, kid: k1, alg: ES256, use: sig}";

    static List<Case> corpus() {
        List<Case> c = new ArrayList<>();
        // ---- broker.yml
        c.add(ok(Kind.BROKER, "shipped", "default_tenant: demo\ndefaults:\n  signing_alg: ES256\n  access_token_ttl: 5m\n"
                + "  key_rotation_period: 30d\n  key_prepublish: 1d\n"));
        c.add(ok(Kind.BROKER, "agents-auth example", "trust_domain: agents.example.com\nmtls:\n  public_url: https://mtls.example.com\n"
                + "  proxy_header: X-Client-Cert\n  trusted_proxies: [10.0.0.5]\nprivate_key_jwt:\n  max_lifetime: 5m\n"
                + "  jwks_uri_allow_private: false\n  jwks_uri_timeout: 2s\n  jwks_uri_max_bytes: 65536\n  jwks_uri_cache_ttl: 5m\n"
                + "agent_ca:\n  certificate_ttl: 24h\n  max_certificate_ttl: 30d\nrate_limits:\n  admin_token_per_source: 120/1m\n"));
        c.add(ok(Kind.BROKER, "iso durations and rate off", "defaults:\n  access_token_ttl: PT90S\nrate_limits:\n  admin_token_per_source: off\n"));
        c.add(bad(Kind.BROKER, "unknown key", "defaults:\n  signing_algo: ES256\n"));
        c.add(bad(Kind.BROKER, "wrong type", "defaults: [ES256]\n"));
        c.add(bad(Kind.BROKER, "bad alg", "defaults:\n  signing_alg: HS256\n"));
        c.add(bad(Kind.BROKER, "ttl too long", "defaults:\n  access_token_ttl: 25h\n"));
        c.add(bad(Kind.BROKER, "prepublish not shorter", "defaults:\n  key_rotation_period: 1d\n  key_prepublish: 1d\n"));
        c.add(bad(Kind.BROKER, "proxy header without proxies", "mtls:\n  proxy_header: X-Client-Cert\n"));
        c.add(bad(Kind.BROKER, "mtls public url http", "mtls:\n  public_url: http://mtls.example.com\n"));
        c.add(bad(Kind.BROKER, "max bytes", "private_key_jwt:\n  jwks_uri_max_bytes: 10\n"));
        c.add(bad(Kind.BROKER, "trust domain upper case", "trust_domain: Agents.Example.com\n"));
        c.add(bad(Kind.BROKER, "bad rate", "rate_limits:\n  admin_token_per_source: lots\n"));
        c.add(bad(Kind.BROKER, "rate period too long", "rate_limits:\n  admin_token_per_source: 10/2d\n"));
        c.add(bad(Kind.BROKER, "bad YAML", "defaults:\n  signing_alg: ES256\n bad: indent\n"));
        // ---- tenant.yml
        c.add(ok(Kind.TENANT, "shipped", "# The demo tenant\ndisplay_name: Demo tenant\n"));
        c.add(ok(Kind.TENANT, "README example", "display_name: Demo tenant\nsigning_alg: ES256\naccess_token_ttl: 10m\n"
                + "introspection:\n  allowed_clients: [mcp.files-server]\nrate_limits:\n  token_per_client: 6000/1m\n  tenant: 20000/1s\n"
                + "  authorize_per_source: 300/1m\n  failed_client_auth_per_source: 300/1m\n"
                + "dormancy:\n  period: 90d\n  auto_suspend: false\nclient_assertion_audience: issuer_or_endpoints\n"));
        c.add(ok(Kind.TENANT, "unicode and § in the name", "display_name: \"Zoë's tenant § 5 — “quoted”\"\n"));
        c.add(ok(Kind.TENANT, "rates off three ways", "display_name: T\nrate_limits:\n  tenant: off\n  token_per_client: 0\n  authorize_per_source: false\n"));
        c.add(ok(Kind.TENANT, "branding (config/README.md)", "display_name: Acme Corp\nbranding:\n"
                + "  logo_url: https://cdn.acme.example/deputy-logo.svg\n  primary_color: \"#0b5394\"\n  background_color: \"#F6F7F9\"\n"
                + "  text_color: \"#1d2330\"\n"));
        c.add(ok(Kind.TENANT, "branding data: logo", "display_name: T\nbranding:\n  logo_url: data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=\n"));
        c.add(bad(Kind.TENANT, "branding colour by name", "display_name: T\nbranding:\n  primary_color: blue\n"));
        c.add(bad(Kind.TENANT, "branding short colour", "display_name: T\nbranding:\n  text_color: \"#fff\"\n"));
        c.add(bad(Kind.TENANT, "branding http logo", "display_name: T\nbranding:\n  logo_url: http://cdn.acme.example/logo.png\n"));
        c.add(bad(Kind.TENANT, "branding script logo", "display_name: T\nbranding:\n  logo_url: \"javascript:alert(1)\"\n"));
        c.add(bad(Kind.TENANT, "branding html data", "display_name: T\nbranding:\n  logo_url: \"data:text/html;base64,PGI+\"\n"));
        c.add(bad(Kind.TENANT, "branding unknown key", "display_name: T\nbranding:\n  font: Comic Sans\n"));
        c.add(bad(Kind.TENANT, "missing display_name", "signing_alg: ES256\n"));
        c.add(bad(Kind.TENANT, "unknown key colour", "display_name: Demo\ncolour: blue\n"));
        c.add(bad(Kind.TENANT, "duration in words", "display_name: Demo\naccess_token_ttl: 5 minutes\n"));
        c.add(bad(Kind.TENANT, "duration unit", "display_name: Demo\nkey_prepublish: 3w\n"));
        c.add(bad(Kind.TENANT, "list for a string", "display_name: Demo\nsigning_alg: [ES256, RS256]\n"));
        c.add(bad(Kind.TENANT, "string for a list", "display_name: Demo\nintrospection:\n  allowed_clients: mcp.files\n"));
        c.add(bad(Kind.TENANT, "audience", "display_name: Demo\nclient_assertion_audience: anything\n"));
        c.add(bad(Kind.TENANT, "rate true", "display_name: Demo\nrate_limits:\n  tenant: true\n"));
        c.add(bad(Kind.TENANT, "rate number", "display_name: Demo\nrate_limits:\n  tenant: 300\n"));
        c.add(bad(Kind.TENANT, "rate period", "display_name: Demo\nrate_limits:\n  tenant: 300/500ms\n"));
        // tool-call reports (docs/mcp.md): the opt-in for MCP servers that do not terminate TLS
        c.add(ok(Kind.TENANT, "tool_reports opt-in", "display_name: Demo\ntool_reports:\n  accept_unverified_cnf: true\n"));
        c.add(bad(Kind.TENANT, "tool_reports not a boolean", "display_name: Demo\ntool_reports:\n  accept_unverified_cnf: maybe\n"));
        c.add(bad(Kind.TENANT, "tool_reports unknown key", "display_name: Demo\ntool_reports:\n  accept_unverified: true\n"));
        // anomaly rules (docs/governance.md)
        String anomaly = "display_name: Demo\nanomaly:\n  webhook:\n    url: https://alerts.example.com/deputy\n"
                + "    secret_env: DEPUTY_ALERT_SECRET\n  rules:\n";
        c.add(ok(Kind.TENANT, "anomaly rules of every kind", anomaly
                + "    - {id: refusals, kind: refusal_burst, count: 5, within: 1m, actions: [alert, suspend]}\n"
                + "    - {id: new-net, kind: new_network, window: 30d, ipv4_prefix: 24}\n"
                + "    - {id: new-scope, kind: new_scope}\n"
                + "    - {id: new-tool, kind: new_tool, agents: [payments.settlement.reconciler]}\n"
                + "    - {id: deep, kind: delegation_depth, max_depth: 2}\n"
                + "    - {id: office, kind: off_hours, hours: \"08:00-18:30\", days: [mon, tue, wed, thu, fri], time_zone: Europe/Paris}\n"));
        c.add(bad(Kind.TENANT, "anomaly unknown kind", anomaly + "    - {id: x, kind: mystery}\n"));
        c.add(bad(Kind.TENANT, "anomaly burst without count", anomaly + "    - {id: x, kind: refusal_burst, within: 1m}\n"));
        c.add(bad(Kind.TENANT, "anomaly setting of another kind", anomaly + "    - {id: x, kind: new_scope, max_depth: 2}\n"));
        c.add(bad(Kind.TENANT, "anomaly unknown action", anomaly + "    - {id: x, kind: new_tool, actions: [page]}\n"));
        c.add(bad(Kind.TENANT, "anomaly webhook over http", "display_name: Demo\nanomaly:\n  webhook:\n"
                + "    url: http://alerts.example.com/\n    secret_env: S\n"));
        c.add(bad(Kind.TENANT, "anomaly off_hours without zone", anomaly + "    - {id: x, kind: off_hours, hours: \"08:00-18:00\"}\n"));
        c.add(bad(Kind.TENANT, "anomaly day name", anomaly
                + "    - {id: x, kind: off_hours, hours: \"08:00-18:00\", time_zone: UTC, days: [monday]}\n"));
        // human approval through CIBA (docs/governance.md)
        String approvals = "display_name: Demo\napprovals:\n  clients:\n";
        c.add(ok(Kind.TENANT, "approvals (governance.md)", "display_name: Demo\napprovals:\n  interval: 5s\n"
                + "  default_expiry: 5m\n  max_expiry: 30m\n  token_ttl: 5m\n  authorization_details_types: [deputy_tool_call]\n"
                + "  clients:\n    bank-mcp: {backchannel_token_delivery_mode: poll}\n"
                + "    payments.settlement.reconciler:\n      backchannel_token_delivery_mode: ping\n"
                + "      backchannel_client_notification_endpoint: https://agents.example.com/ciba/notify\n"
                + "  webhook:\n    url: https://approvals.example.com/deputy\n    secret_env: DEPUTY_APPROVALS_WEBHOOK_SECRET\n"));
        c.add(bad(Kind.TENANT, "approvals push mode", approvals + "    a: {backchannel_token_delivery_mode: push}\n"));
        c.add(bad(Kind.TENANT, "approvals ping without endpoint", approvals + "    a: {backchannel_token_delivery_mode: ping}\n"));
        c.add(bad(Kind.TENANT, "approvals poll with endpoint", approvals + "    a: {backchannel_token_delivery_mode: poll, "
                + "backchannel_client_notification_endpoint: https://a.example/n}\n"));
        c.add(bad(Kind.TENANT, "approvals ping endpoint over http", approvals + "    a: {backchannel_token_delivery_mode: ping, "
                + "backchannel_client_notification_endpoint: http://a.example/n}\n"));
        c.add(bad(Kind.TENANT, "approvals unknown client key", approvals + "    a: {backchannel_token_delivery_mode: poll, mode: poll}\n"));
        c.add(bad(Kind.TENANT, "approvals interval in words", "display_name: Demo\napprovals:\n  interval: 2 seconds\n"));
        c.add(bad(Kind.TENANT, "approvals webhook without secret", "display_name: Demo\napprovals:\n  webhook:\n"
                + "    url: https://approvals.example.com/\n"));
        c.add(bad(Kind.TENANT, "dormancy zero", "display_name: Demo\ndormancy:\n  period: 0s\n"));
        c.add(bad(Kind.TENANT, "blank name", "display_name: \"  \"\n"));
        c.add(bad(Kind.TENANT, "tab indent", "display_name: Demo\n\tsigning_alg: ES256\n"));
        c.add(bad(Kind.TENANT, "a list, not a mapping", "- display_name: Demo\n"));
        // ---- registration.yml
        c.add(ok(Kind.REGISTRATION, "mcp.md example", "open: true\nredirect_uris:\n  - \"http://127.0.0.1:*/**\"\n"
                + "  - \"https://*.example.com/**\"\nauth_methods: [none]\nmax_clients: 1000\nunused_expiry: 30d\npending_expiry: 24h\n"
                + "max_pending_per_source: 20\nrate_per_source: 30\nrate_window: 1h\nclient_id_metadata_documents: true\n"));
        c.add(ok(Kind.REGISTRATION, "closed", "open: false\n"));
        c.add(bad(Kind.REGISTRATION, "auth method", "auth_methods: [private_key_jwt]\n"));
        c.add(bad(Kind.REGISTRATION, "negative", "max_clients: -1\n"));
        c.add(bad(Kind.REGISTRATION, "pending zero", "max_pending_per_source: 0\n"));
        c.add(bad(Kind.REGISTRATION, "typo", "max_client: 10\n"));
        c.add(bad(Kind.REGISTRATION, "window too long", "rate_window: 2d\n"));
        c.add(bad(Kind.REGISTRATION, "expiry zero", "unused_expiry: 0s\n"));
        // ---- clients
        c.add(ok(Kind.CLIENT, "shipped demo-cli", "client_id: demo-cli\nname: Demo CLI\nredirect_uris: [http://127.0.0.1/cb]\n"
                + "internal: true\ntoken_endpoint_auth_method: none\n"));
        c.add(ok(Kind.CLIENT, "confidential", "client_id: billing-portal\nredirect_uris: [https://billing.example.com/cb, com.example.app:/cb]\n"
                + "token_endpoint_auth_method: client_secret_basic\nclient_secret_env: BILLING_PORTAL_SECRET\n"));
        c.add(bad(Kind.CLIENT, "inline secret", "client_id: c\nredirect_uris: [https://a.example/cb]\nclient_secret: hunter2\n"));
        c.add(bad(Kind.CLIENT, "confidential without env", "client_id: c\nredirect_uris: [https://a.example/cb]\n"
                + "token_endpoint_auth_method: client_secret_post\n"));
        c.add(bad(Kind.CLIENT, "public with env", "client_id: c\nredirect_uris: [https://a.example/cb]\nclient_secret_env: X\n"));
        c.add(bad(Kind.CLIENT, "http redirect", "client_id: c\nredirect_uris: [http://evil.example/cb]\n"));
        c.add(bad(Kind.CLIENT, "fragment", "client_id: c\nredirect_uris: [\"https://a.example/cb#x\"]\n"));
        c.add(bad(Kind.CLIENT, "native scheme without dot", "client_id: c\nredirect_uris: [\"myapp:/cb\"]\n"));
        c.add(bad(Kind.CLIENT, "no redirect", "client_id: c\nredirect_uris: []\n"));
        c.add(bad(Kind.CLIENT, "missing client_id", "redirect_uris: [https://a.example/cb]\n"));
        // ---- connectors
        c.add(ok(Kind.CONNECTOR, "shipped mock-idp", "id: mock-idp\ntype: oidc\ndisplay_name: Local mock IdP\nenabled: false\n"
                + "default: true\nissuer: http://127.0.0.1:9400/default\nclient_id: deputy-demo\nclient_secret_env: DEMO_IDP_SECRET\n"
                + "email_domains: [demo.example]\nrole_mapping:\n  demo-users: deploy-reader\n"));
        c.add(ok(Kind.CONNECTOR, "okta doc", "id: okta\ntype: okta\nissuer: https://acme.okta.com/oauth2/default\nclient_id: 0oa1b2c3d4e5f6g7h8i9\n"
                + "client_secret_env: OKTA_CLIENT_SECRET\nscopes: [openid, email, profile, groups]\nemail_domains: [acme.com]\n"
                + "default: true\nrole_mapping: { \"Deputy Developers\": developer, \"Deputy Admins\": admin }\n"));
        c.add(ok(Kind.CONNECTOR, "auth0 doc", "id: auth0\ntype: auth0\nissuer: https://acme.eu.auth0.com/\nclient_id: Xy12AbCdEfGh\n"
                + "client_secret_env: AUTH0_CLIENT_SECRET\nauth0: { namespace: \"https://acme.example/\", organization: org_W1nD0w5 }\n"
                + "claims: { groups: groups }\nrole_mapping: { engineering: [developer, payments.settlement.reconciler] }\n"));
        c.add(ok(Kind.CONNECTOR, "entra doc", "id: entra\ntype: entra\nclient_id: 6731de76-14a6-49ae-97bc-6eba6914391e\n"
                + "client_secret_env: ENTRA_CLIENT_SECRET\nentra:\n  tenant: organizations\n  allowed_tenants: [72f988bf-86f1-41af-91ab-2d7cd011db47]\n"
                + "claims: { email: preferred_username }\n"));
        c.add(ok(Kind.CONNECTOR, "keycloak doc", "id: keycloak\ntype: keycloak\nissuer: https://sso.acme.example/realms/acme\n"
                + "client_id: deputy\nclient_secret_env: KEYCLOAK_CLIENT_SECRET\nrole_mapping: { deputy-dev: developer, \"deputy:admin\": admin }\n"));
        c.add(ok(Kind.CONNECTOR, "token exchange", "id: corp\ntype: okta\nissuer: https://corp.okta.com/oauth2/default\nclient_id: deputy\n"
                + "client_secret_env: CORP_OKTA_SECRET\ntoken_exchange: true\ntoken_exchange_audiences: [api://deputy]\n"));
        c.add(bad(Kind.CONNECTOR, "typo rol_mapping", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\n"
                + "client_secret_env: S\nrol_mapping: {a: b}\n"));
        c.add(bad(Kind.CONNECTOR, "inline secret", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\nclient_secret: hunter2\n"));
        c.add(bad(Kind.CONNECTOR, "http issuer", "id: x\ntype: oidc\nissuer: http://idp.example\nclient_id: c\nclient_secret_env: S\n"));
        c.add(bad(Kind.CONNECTOR, "no openid", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\nclient_secret_env: S\nscopes: [email]\n"));
        c.add(bad(Kind.CONNECTOR, "unknown type", "id: x\ntype: saml\nissuer: https://idp.example\nclient_id: c\nclient_secret_env: S\n"));
        c.add(bad(Kind.CONNECTOR, "missing client_id", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_secret_env: S\n"));
        c.add(bad(Kind.CONNECTOR, "bad id", "id: X_Y!\ntype: oidc\nissuer: https://idp.example\nclient_id: c\nclient_secret_env: S\n"));
        c.add(bad(Kind.CONNECTOR, "auth0 issuer slash", "id: x\ntype: auth0\nissuer: https://acme.auth0.com\nclient_id: c\nclient_secret_env: S\n"));
        c.add(bad(Kind.CONNECTOR, "keycloak issuer", "id: x\ntype: keycloak\nissuer: https://sso.example\nclient_id: c\nclient_secret_env: S\n"));
        c.add(bad(Kind.CONNECTOR, "entra multi without allowed", "id: x\ntype: entra\nclient_id: c\nclient_secret_env: S\nentra: {tenant: common}\n"));
        c.add(bad(Kind.CONNECTOR, "skew", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\nclient_secret_env: S\nclock_skew_seconds: 900\n"));
        c.add(bad(Kind.CONNECTOR, "hmac", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\nclient_secret_env: S\nallowed_algs: [HS256]\n"));
        c.add(bad(Kind.CONNECTOR, "empty role list", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\nclient_secret_env: S\nrole_mapping: {a: []}\n"));
        c.add(bad(Kind.CONNECTOR, "enabled not boolean", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\nclient_secret_env: S\nenabled: maybe\n"));
        c.add(bad(Kind.CONNECTOR, "private_key_jwt without key", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\nclient_auth: private_key_jwt\n"));
        // ---- policies
        c.add(ok(Kind.POLICY, "shipped", "max_chain_depth: 3\ndelegation:\n  - id: billing-bot-for-everyone\n    agents: [billing-bot]\n"
                + "    users: {all: true}\n    resources: [\"*\"]\n    scopes: [\"*\"]\n"));
        c.add(ok(Kind.POLICY, "delegation.md example", "max_chain_depth: 3\ndelegation:\n  - id: billing-bot-for-finance\n    effect: allow\n"
                + "    agents: [billing-bot]\n    agent_roles: []\n    users:\n      groups: [finance]\n      roles: []\n      connectors: [okta]\n"
                + "    resources: [\"https://mcp.example.com/billing\"]\n    scopes: [\"mcp:tool:invoice.read\"]\n    max_depth: 2\n"
                + "  - id: never-for-contractors\n    effect: deny\n    agents: [\"*\"]\n    users: {groups: [contractors]}\n    resources: [\"*\"]\n"));
        c.add(ok(Kind.POLICY, "dotted and unicode", "delegation:\n  - id: payments.settlement.reconciler\n"
                + "    description: \"Zoë's § 4 “reconciler” rule\"\n"
                + "    agents: [payments.settlement.reconciler]\n    users: {groups: [zoë-team, \"Finance § 4\"]}\n    resources: [\"*\"]\n"));
        c.add(ok(Kind.POLICY, "deny without users", "delegation:\n  - id: no\n    effect: deny\n    agents: [\"*\"]\n    resources: [\"*\"]\n"));
        c.add(ok(Kind.POLICY, "governance.md tools", "tools:\n  default: deny\n  sensitive_arguments: [iban]\n"
                + "  decision_clients: [bank-mcp]\n  rules:\n    - id: payments.settlement.large\n      effect: require_approval\n"
                + "      tools: [transfer_funds, \"accounts.*\"]\n      subject: {groups: [finance], attributes: {department: [treasury]}}\n"
                + "      actors: {agents: [\"payments.*\"], environments: [production], max_depth: 2}\n"
                + "      when: [\"amount > 10000\", \"currency in [EUR, USD]\"]\n"
                + "      time: {days: [mon, fri], hours: \"08:00-18:00\", zone: Europe/Berlin}\n      source: [10.0.0.0/8]\n"));
        c.add(bad(Kind.POLICY, "tool rule effect allow", "tools:\n  rules:\n    - {id: r, effect: allow, tools: [a]}\n"));
        c.add(bad(Kind.POLICY, "tool rule without tools", "tools:\n  rules:\n    - {id: r, effect: deny}\n"));
        c.add(bad(Kind.POLICY, "tool rule typo", "tools:\n  rules:\n    - {id: r, effect: deny, tool: [a]}\n"));
        c.add(bad(Kind.POLICY, "tool condition unreadable", "tools:\n  rules:\n    - {id: r, effect: deny, tools: [a], when: [\"amount >> 5\"]}\n"));
        c.add(bad(Kind.POLICY, "tool source not an address", "tools:\n  rules:\n    - {id: r, effect: deny, tools: [a], source: [intranet.example]}\n"));
        c.add(bad(Kind.POLICY, "allow without users", "delegation:\n  - id: r\n    agents: [a]\n    resources: [\"*\"]\n"));
        c.add(bad(Kind.POLICY, "no agents", "delegation:\n  - id: r\n    users: {all: true}\n    resources: [\"*\"]\n"));
        c.add(bad(Kind.POLICY, "no resources", "delegation:\n  - id: r\n    agents: [a]\n    users: {all: true}\n"));
        c.add(bad(Kind.POLICY, "bad effect", "delegation:\n  - id: r\n    effect: maybe\n    agents: [a]\n    users: {all: true}\n    resources: [\"*\"]\n"));
        c.add(bad(Kind.POLICY, "typo in rule", "delegation:\n  - id: r\n    agent: [a]\n    users: {all: true}\n    resources: [\"*\"]\n"));
        c.add(bad(Kind.POLICY, "typo in users", "delegation:\n  - id: r\n    agents: [a]\n    users: {group: [x]}\n    resources: [\"*\"]\n"));
        c.add(bad(Kind.POLICY, "bad rule id", "delegation:\n  - id: \"rule one\"\n    agents: [a]\n    users: {all: true}\n    resources: [\"*\"]\n"));
        c.add(bad(Kind.POLICY, "max_depth 0", "delegation:\n  - id: r\n    agents: [a]\n    users: {all: true}\n    resources: [\"*\"]\n    max_depth: 0\n"));
        c.add(bad(Kind.POLICY, "duplicate rule id", "delegation:\n  - id: r\n    effect: deny\n    agents: [a]\n    resources: [\"*\"]\n"
                + "  - id: r\n    effect: deny\n    agents: [b]\n    resources: [\"*\"]\n"));
        // ---- trust
        c.add(ok(Kind.TRUST, "delegation.md example", "issuer: https://idp.example.com\njwks_uri: https://idp.example.com/jwks\ngrants: [id-jag]\n"
                + "algorithms: [RS256, ES256]\nmax_lifetime: 10m\nsubjects: [\"spiffe://corp.example/ns/payments/*\"]\nscopes: [\"mcp:tool:deploy.read\"]\n"));
        c.add(ok(Kind.TRUST, "inline keys", "issuer: https://idp.example.com\njwks: {keys: [" + EC_JWK + "]}\ngrants: [id-jag, jwt-bearer]\n"));
        c.add(bad(Kind.TRUST, "both keys", "issuer: https://idp.example.com\njwks_uri: https://idp.example.com/jwks\njwks: {keys: []}\n"));
        c.add(bad(Kind.TRUST, "no keys", "issuer: https://idp.example.com\n"));
        c.add(bad(Kind.TRUST, "http jwks", "issuer: https://idp.example.com\njwks_uri: http://idp.example.com/jwks\n"));
        c.add(bad(Kind.TRUST, "hmac", "issuer: https://idp.example.com\njwks_uri: https://idp.example.com/jwks\nalgorithms: [HS256]\n"));
        c.add(bad(Kind.TRUST, "grant", "issuer: https://idp.example.com\njwks_uri: https://idp.example.com/jwks\ngrants: [password]\n"));
        c.add(bad(Kind.TRUST, "private key", "issuer: https://idp.example.com\njwks: {keys: [{kty: EC, crv: P-256, x: aFa0KKyW4YpTICfGmAgb0yntLupN4qkvG4ZlgUHw5Kc, "
                + "y: yWoAScYdpiqOsq_G-K4Xgm1HiBD_wn-ncUqre9qfAc0, d: 870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE}]}\n"));
        // ---- agents
        c.add(ok(Kind.AGENT, "shipped billing-bot", "name: Billing bot\nowner: alice@example.com\nenvironment: production\n"
                + "roles: [deploy-reader]\nauth_method: private_key_jwt\njwks:\n  keys:\n    - " + EC_JWK + "\nrotation_overlap: 1h\nmetadata:\n  team: billing\n"));
        c.add(ok(Kind.AGENT, "shipped deploy-bot", "name: Deploy bot\nowner: bob@example.com\nenvironment: production\nroles: [deploy-reader]\n"
                + "auth_method: tls_client_auth\n"));
        c.add(ok(Kind.AGENT, "dotted id, unicode name and owner", "id: payments.settlement.reconciler\nname: \"Zoë's agent — § 4 “reconciler”\"\n"
                + "owner: jonathan.christopher.williams@example.com\nenvironment: production\nauth_method: tls_client_auth\n"
                + "metadata: {team: zoë-agent, cost-centre: \"§ 12\"}\n"));
        c.add(bad(Kind.AGENT, "missing environment", "auth_method: tls_client_auth\n"));
        c.add(bad(Kind.AGENT, "missing auth_method", "environment: production\n"));
        c.add(bad(Kind.AGENT, "unknown auth method", "environment: production\nauth_method: client_secret_basic\n"));
        c.add(bad(Kind.AGENT, "roles as a string", "environment: production\nauth_method: tls_client_auth\nroles: deploy-reader\n"));
        c.add(bad(Kind.AGENT, "tls with keys", "environment: production\nauth_method: tls_client_auth\njwks: {keys: [" + EC_JWK + "]}\n"));
        c.add(bad(Kind.AGENT, "two credentials", "environment: production\nauth_method: private_key_jwt\njwks: {keys: [" + EC_JWK + "]}\n"
                + "jwks_uri: https://a.example/jwks\n"));
        c.add(bad(Kind.AGENT, "private key in jwks", "environment: production\nauth_method: private_key_jwt\njwks: {keys: [{kty: EC, crv: P-256, "
                + "x: aFa0KKyW4YpTICfGmAgb0yntLupN4qkvG4ZlgUHw5Kc, y: yWoAScYdpiqOsq_G-K4Xgm1HiBD_wn-ncUqre9qfAc0, "
                + "d: 870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE, kid: k1}]}\n"));
        c.add(bad(Kind.AGENT, "unicode id", "id: zoë-agent\nenvironment: production\nauth_method: tls_client_auth\n"));
        c.add(bad(Kind.AGENT, "upper-case environment", "environment: Production\nauth_method: tls_client_auth\n"));
        c.add(bad(Kind.AGENT, "typo", "environment: production\nauth_method: tls_client_auth\nrole: [x]\n"));
        c.add(bad(Kind.AGENT, "bad duration", "environment: production\nauth_method: tls_client_auth\nrotation_overlap: an hour\n"));
        // ---- roles
        c.add(ok(Kind.ROLE, "shipped", "description: Read deployments through the deploy MCP server\nscopes:\n  - mcp:tool:deploy.read\n"));
        c.add(ok(Kind.ROLE, "dotted name, environments", "name: payments.settlement.reconciler\nscopes: [\"payments:settle\", mcp:tool:ledger.read]\n"
                + "environments: [production, staging]\ndescription: \"Zoë's § 4 role\"\n"));
        c.add(ok(Kind.ROLE, "privileged", "scopes: [payments:settle]\nenvironments: [production]\nprivileged: true\n"));
        c.add(bad(Kind.ROLE, "privileged as a string", "scopes: [payments:settle]\nprivileged: maybe\n"));
        c.add(bad(Kind.ROLE, "no scopes", "description: nothing\n"));
        c.add(bad(Kind.ROLE, "empty scopes", "scopes: []\n"));
        c.add(bad(Kind.ROLE, "scope with a space", "scopes: [\"read all\"]\n"));
        c.add(bad(Kind.ROLE, "scope with a quote", "scopes: ['say\"hi']\n"));
        c.add(bad(Kind.ROLE, "bad name", "name: Deploy Reader\nscopes: [a]\n"));
        c.add(bad(Kind.ROLE, "typo", "scope: [a]\n"));
        // ---- resources
        c.add(ok(Kind.RESOURCE, "shipped", "uri: https://mcp.example.com/deploy\nname: Deploy MCP server\nscopes:\n  - mcp:tool:deploy.read\n"
                + "  - mcp:tool:deploy.write\ndefault: true\n"));
        c.add(ok(Kind.RESOURCE, "loopback http", "id: local.mcp\nuri: http://127.0.0.1:3000/mcp\n"));
        c.add(ok(Kind.RESOURCE, "scope descriptions (docs/console.md)", "uri: https://mcp.acme.example/mcp\nscopes: [tools:read, tools/write]\n"
                + "scope_descriptions:\n  tools:read: Read the files and tickets in Acme's tools\n  tools/write: Zoë's “write” scope\n"));
        c.add(bad(Kind.RESOURCE, "description of an unknown scope", "uri: https://mcp.acme.example/mcp\nscopes: [tools:read]\n"
                + "scope_descriptions:\n  tools:write: Change things\n"));
        c.add(bad(Kind.RESOURCE, "blank description", "uri: https://mcp.acme.example/mcp\nscopes: [tools:read]\n"
                + "scope_descriptions:\n  tools:read: \"  \"\n"));
        c.add(bad(Kind.RESOURCE, "http", "uri: http://mcp.example.com/deploy\n"));
        c.add(bad(Kind.RESOURCE, "fragment", "uri: \"https://mcp.example.com/deploy#tools\"\n"));
        c.add(bad(Kind.RESOURCE, "user info", "uri: https://bob@mcp.example.com/deploy\n"));
        c.add(bad(Kind.RESOURCE, "relative", "uri: /deploy\n"));
        c.add(bad(Kind.RESOURCE, "not a URI", "uri: \"https://mcp example.com/deploy\"\n"));
        c.add(bad(Kind.RESOURCE, "missing uri", "name: Deploy\n"));
        c.add(bad(Kind.RESOURCE, "default not boolean", "uri: https://mcp.example.com/deploy\ndefault: yes please\n"));
        c.add(bad(Kind.RESOURCE, "bad scope", "uri: https://mcp.example.com/deploy\nscopes: [\"a b\"]\n"));
        return c;
    }

    @Test
    void validateAgreesWithTheBrokerOnEveryFileOfTheCorpus() throws Exception {
        List<String> disagreements = new ArrayList<>();
        int valid = 0;
        int invalid = 0;
        for (Case c : corpus()) {
            Path file = write(c);
            List<ConfigCheck.Problem> problems = ConfigCheck.checkFile(file, c.kind());
            String broker = brokerVerdict(c.kind(), file);
            boolean validateSays = problems.isEmpty();
            boolean brokerSays = broker == null;
            if (validateSays != c.valid() || brokerSays != c.valid()) {
                disagreements.add(c.kind() + " '" + c.name() + "': expected " + (c.valid() ? "valid" : "invalid")
                        + "; validate: " + (validateSays ? "valid" : problems) + "; broker: " + (brokerSays ? "valid" : broker));
            }
            if (c.valid()) {
                valid++;
            } else {
                invalid++;
                // every problem has a line (the file is not empty) and no Java type in its words
                for (ConfigCheck.Problem p : problems) {
                    assertTrue(p.line() > 0, c.name() + ": " + p);
                    assertTrue(!p.message().contains("java.") && !p.message().contains("Exception"), c.name() + ": " + p);
                }
                assertTrue(!broker.contains("java.") && !broker.contains("`"), c.kind() + " '" + c.name() + "': broker said " + broker);
            }
        }
        assertTrue(disagreements.isEmpty(), disagreements.size() + " disagreements:\n" + String.join("\n", disagreements));
        assertTrue(valid >= 25 && invalid >= 90, valid + " valid, " + invalid + " invalid");
        for (Kind k : Kind.values()) {
            assertTrue(corpus().stream().anyMatch(c -> c.kind() == k && c.valid()), k + " has no valid case");
            assertTrue(corpus().stream().anyMatch(c -> c.kind() == k && !c.valid()), k + " has no invalid case");
        }
    }

    /**
     * Where validate is stricter than the code that reads the file: each of these passes the broker's reader but fails
     * later (a login, an environment lookup at start) or silently does nothing (an ignored key).
     */
    @Test
    void validateIsStricterWhereTheBrokerFailsLater() throws Exception {
        List<Case> stricter = List.of(
                // the broker starts, but every login through it fails upstream (no secret): docs say it is required
                bad(Kind.CONNECTOR, "enabled without client_secret_env", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\n"),
                // the library ignores keys it does not read inside claims: the groups claim would silently stay 'groups'
                bad(Kind.CONNECTOR, "typo inside claims", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\n"
                        + "client_secret_env: S\nclaims: {grops: roles}\n"),
                // no shell can set such a variable: the broker refuses at start with "is not set"
                bad(Kind.CONNECTOR, "malformed variable name", "id: x\ntype: oidc\nissuer: https://idp.example\nclient_id: c\n"
                        + "client_secret_env: \"hunter2 is my secret\"\n"),
                // Jackson keeps the last of two equal keys without a word
                bad(Kind.TENANT, "duplicate key", "display_name: One\ndisplay_name: Two\n"));
        for (Case c : stricter) {
            Path file = write(c);
            assertTrue(!ConfigCheck.checkFile(file, c.kind()).isEmpty(), c.name());
            assertEquals(null, brokerVerdict(c.kind(), file), c.name() + ": the broker's file reader accepts it");
        }
    }

    private Path write(Case c) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(c.kind().name().toLowerCase() + "-" + Math.abs(c.name().hashCode()))
                .resolve(switch (c.kind()) {
                    case AGENT -> "agents";
                    case ROLE -> "roles";
                    case RESOURCE -> "resources";
                    case POLICY -> "policies";
                    default -> "x";
                }));
        Path file = dir.resolve(switch (c.kind()) {
            case BROKER -> "broker.yml";
            case TENANT -> "tenant.yml";
            case REGISTRATION -> "registration.yml";
            case AGENT -> "billing-bot.yml";
            case ROLE -> "deploy-reader.yml";
            case RESOURCE -> "deploy.yml";
            default -> "x.yml";
        });
        Files.writeString(file, c.yaml());
        return file;
    }

    /** null when the broker's reader accepts the file, else its message. */
    static String brokerVerdict(Kind kind, Path file) {
        try {
            switch (kind) {
                case BROKER -> YamlFiles.read(file, BrokerFile.class);
                case TENANT -> YamlFiles.read(file, TenantFile.class);
                case REGISTRATION -> YamlFiles.read(file, RegistrationPolicy.class);
                case CLIENT -> YamlFiles.read(file, ClientFile.class);
                case POLICY -> {
                    Policies.load(file.getParent());
                    Policies.loadTools(file.getParent()); // the tools: section (docs/governance.md)
                }
                case TRUST -> {
                    TrustedIssuer ti = YamlFiles.read(file, TrustedIssuer.class);
                    if (ti.jwks() != null) {
                        var set = com.nimbusds.jose.jwk.JWKSet.parse(ti.jwks());
                        if (set.getKeys().stream().anyMatch(com.nimbusds.jose.jwk.JWK::isPrivate)) {
                            return "jwks must hold public keys only";
                        }
                    }
                }
                case CONNECTOR -> connector(file);
                case AGENT, ROLE, RESOURCE -> {
                    // the tenant folder's reader, then the checks apply makes before it touches the database
                    PolicyFiles pf = PolicyFiles.load(file.getParent().getParent());
                    for (PolicyFiles.Entry<AgentFile> e : pf.agents()) {
                        AgentFile a = e.value();
                        Agents.checkEnvironment(a.environment());
                        Agents.checkName(a.name() == null ? e.id() : a.name());
                        Agents.checkOwner(a.owner());
                        Agents.checkMetadata(a.metadata());
                        if (a.jwks() != null || a.jwksUri() != null || a.certificate() != null) {
                            CredentialParser.parse(new CredentialSpec(a.jwks(), a.jwksUri(), a.certificate()),
                                    Agent.AuthMethod.fromWire(a.authMethod()), false, System.currentTimeMillis());
                        }
                    }
                    for (PolicyFiles.Entry<RoleFile> e : pf.roles()) {
                        Catalog.checkRole("t", e.id(), e.value().description(), e.value().scopes(), e.value().environments(), "config");
                    }
                    for (PolicyFiles.Entry<ResourceFile> e : pf.resources()) {
                        ResourceFile r = e.value();
                        Catalog.checkResource("t", e.id(), r.uri(), r.name(), r.scopes(), r.isDefault(), "config");
                    }
                }
            }
            return null;
        } catch (RuntimeException | java.text.ParseException e) {
            return String.valueOf(e.getMessage());
        }
    }

    /** What TenantConnectors does with a file, short of the environment variable's value and the IdP. */
    @SuppressWarnings("unchecked")
    private static void connector(Path file) {
        Map<String, Object> map = YamlFiles.read(file, Map.class);
        if (map.containsKey("client_secret")) {
            throw new IllegalArgumentException("do not put client_secret in a file");
        }
        for (String k : map.keySet()) {
            if (!TenantConnectors.BROKER_KEYS.contains(k) && !TenantConnectors.CONNECTOR_KEYS.contains(k)) {
                throw new IllegalArgumentException(YamlFiles.unknownKey(k, TenantConnectors.CONNECTOR_KEYS));
            }
        }
        for (String b : List.of("enabled", "default", "token_exchange")) {
            if (map.get(b) != null && !(map.get(b) instanceof Boolean)) {
                throw new IllegalArgumentException("'" + b + "' must be true or false");
            }
        }
        Map<String, Object> forConnector = new LinkedHashMap<>(map);
        TenantConnectors.BROKER_KEYS.forEach(forConnector::remove);
        if (!"private_key_jwt".equals(String.valueOf(map.get("client_auth")).toLowerCase())) {
            forConnector.put("client_secret", "from-the-environment");
        }
        ConnectorConfig.fromMap(forConnector);
    }

    @Test
    void everySchemaIsADraft202012SchemaWithATitle() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("..", "config", "schema"))) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".schema.json")).sorted().toList();
            assertEquals(Kind.values().length, files.size(), files.toString());
            for (Path f : files) {
                var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(f.toFile());
                assertEquals("https://json-schema.org/draft/2020-12/schema", node.path("$schema").asText(), f.toString());
                assertTrue(node.path("title").asText().startsWith("Deputy "), f.toString());
            }
        }
    }
}
