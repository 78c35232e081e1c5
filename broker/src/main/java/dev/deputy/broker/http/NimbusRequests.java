package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.oauth.ClientCertificates;
import dev.deputy.broker.oauth.Endpoints;
import io.micronaut.http.HttpRequest;
import jakarta.inject.Singleton;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * The one adapter from a Micronaut request to a Nimbus {@link HTTPRequest}: method, the endpoint's public URL
 * (or its mTLS alias when the request came over TLS), headers, the raw form body, the client certificate (TLS
 * handshake or trusted proxy header) and the source address.
 */
@Singleton
public class NimbusRequests {
    private final Endpoints endpoints;
    private final ClientCertificates certificates;

    public NimbusRequests(Endpoints endpoints, ClientCertificates certificates) {
        this.endpoints = endpoints;
        this.certificates = certificates;
    }

    public HTTPRequest adapt(HttpRequest<?> request, String tenant, String path, String body) {
        return adapt(request, tenant, path, body, null);
    }

    /**
     * As {@link #adapt(HttpRequest, String, String, String)}, with only the named request headers copied (null: all):
     * an endpoint whose client authentication reads no other header (the AuthZEN endpoints: {@code Authorization})
     * does not copy the rest — the forwarded certificate's header alone is ~1 KB — into Nimbus's header map.
     */
    public HTTPRequest adapt(HttpRequest<?> request, String tenant, String path, String body,
                             java.util.Collection<String> headers) {
        RequestMeta meta = RequestMetaFilter.of(request);
        HTTPRequest r = new FormRequest(HTTPRequest.Method.valueOf(request.getMethodName()),
                endpoints.endpointUrl(tenant, path, request.isSecure()));
        if (headers == null) {
            request.getHeaders().forEach((name, values) -> {
                if (!values.isEmpty()) {
                    r.setHeader(name, values.toArray(String[]::new));
                }
            });
        } else {
            for (String name : headers) {
                List<String> values = request.getHeaders().getAll(name);
                if (!values.isEmpty()) {
                    r.setHeader(name, values.toArray(String[]::new));
                }
            }
        }
        r.setBody(body == null ? "" : body);
        Optional<X509Certificate> cert = certificates.resolve(
                request.isSecure() ? safeCertificate(request) : Optional.empty(),
                h -> request.getHeaders().get(h), meta.peerIp());
        cert.ifPresent(c -> {
            r.setClientX509Certificate(c);
            r.setClientX509CertificateSubjectDN(c.getSubjectX500Principal().getName());
        });
        r.setClientIPAddress(meta.sourceIp());
        return r;
    }

    private static Optional<java.security.cert.Certificate> safeCertificate(HttpRequest<?> request) {
        try {
            return request.getCertificate();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

}
