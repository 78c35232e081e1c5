package dev.deputy.broker.http;

import dev.deputy.broker.pki.AgentCa;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

/** The tenant's agent CA certificate (PEM) and its CRL (DER, RFC 5280 §5), for relying parties and agents. */
@Controller("/t/{tenant}")
@ExecuteOn(TaskExecutors.BLOCKING)
class AgentCaController {
    private final Tenants tenants;
    private final AgentCa ca;

    AgentCaController(Tenants tenants, AgentCa ca) {
        this.tenants = tenants;
        this.ca = ca;
    }

    @Get(uri = "/agent-ca.pem", produces = "application/x-pem-file")
    HttpResponse<String> certificate(@PathVariable String tenant) {
        return HttpResponse.ok(ca.caPem(tenant(tenant).id())).contentType("application/x-pem-file")
                .header("Cache-Control", "public, max-age=300");
    }

    @Get(uri = "/agent-ca.crl", produces = "application/pkix-crl")
    HttpResponse<byte[]> crl(@PathVariable String tenant) {
        return HttpResponse.ok(ca.crl(tenant(tenant).id())).contentType("application/pkix-crl")
                .header("Cache-Control", "no-cache");
    }

    private Tenant tenant(String id) {
        return tenants.find(id).orElseThrow(() -> new UnknownTenantException(id));
    }
}
