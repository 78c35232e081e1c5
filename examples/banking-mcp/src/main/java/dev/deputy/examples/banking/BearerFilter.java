package dev.deputy.examples.banking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * OAuth in front of the MCP transport (the SDK has none): MCP authorization spec "Access Token Usage" + RFC 6750 +
 * RFC 9728 §5.1.
 * <ul>
 *   <li>no token → 401 {@code WWW-Authenticate: Bearer resource_metadata="<PRM at Deputy>", scope="<all scopes>"};</li>
 *   <li>a token that fails validation → 401 with {@code error="invalid_token"};</li>
 *   <li>a {@code tools/call} whose tool needs a scope the token lacks → 403 {@code error="insufficient_scope"} naming
 *       the scope (the client steps up by re-authorizing).</li>
 * </ul>
 * The JSON-RPC body is read once (capped) to find the tool, then replayed to the transport.
 */
public final class BearerFilter implements Filter {
    static final String CALLER = "deputy.caller";
    private static final Logger LOG = LoggerFactory.getLogger(BearerFilter.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 1024 * 1024;

    private final TokenValidator validator;
    private final String resourceMetadata;
    private final Map<String, String> toolScopes;

    public BearerFilter(TokenValidator validator, String resourceMetadata, Map<String, String> toolScopes) {
        this.validator = validator;
        this.resourceMetadata = resourceMetadata;
        this.toolScopes = toolScopes;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        if ("OPTIONS".equals(request.getMethod())) {
            chain.doFilter(req, res);
            return;
        }
        String all = String.join(" ", new LinkedHashSet<>(toolScopes.values()));
        String auth = request.getHeader("Authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7) || auth.length() <= 7) {
            challenge(response, 401, "Bearer resource_metadata=\"" + resourceMetadata + "\", scope=\"" + all + "\"",
                    "unauthorized", "a bearer token is required");
            return;
        }
        TokenValidator.Caller caller;
        try {
            X509Certificate[] certs = (X509Certificate[]) request.getAttribute("jakarta.servlet.request.X509Certificate");
            caller = validator.validate(auth.substring(7).trim(), certs == null || certs.length == 0 ? null : certs[0]);
        } catch (TokenValidator.Invalid e) {
            LOG.info("rejected token: {}", e.getMessage());
            challenge(response, 401, "Bearer resource_metadata=\"" + resourceMetadata + "\", error=\"invalid_token\", "
                    + "error_description=\"" + e.getMessage().replaceAll("[\"\\\\]", "'") + "\"", "invalid_token", e.getMessage());
            return;
        }
        request.setAttribute(CALLER, caller);
        if (!"POST".equals(request.getMethod())) {
            chain.doFilter(request, response);
            return;
        }
        byte[] body = request.getInputStream().readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) {
            challenge(response, 413, null, "too_large", "request body too large");
            return;
        }
        String needed = neededScope(body);
        if (needed != null && !caller.scopes().contains(needed)) {
            // RFC 6750 §3.1 + MCP "Scope Challenge Handling": 403 insufficient_scope with the scope to ask for
            Set<String> ask = new LinkedHashSet<>(caller.scopes());
            ask.add(needed);
            challenge(response, 403, "Bearer error=\"insufficient_scope\", scope=\"" + String.join(" ", ask)
                    + "\", resource_metadata=\"" + resourceMetadata + "\", error_description=\"the tool needs " + needed + "\"",
                    "insufficient_scope", "the tool needs scope " + needed);
            return;
        }
        chain.doFilter(new Replay(request, body), response);
    }

    /** The scope the request needs: for a {@code tools/call}, the tool's; otherwise none. */
    String neededScope(byte[] body) {
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.isObject() && "tools/call".equals(n.path("method").asText())) {
                return toolScopes.get(n.path("params").path("name").asText());
            }
        } catch (IOException e) {
            return null; // the transport answers malformed JSON-RPC itself
        }
        return null;
    }

    private static void challenge(HttpServletResponse response, int status, String wwwAuthenticate, String error,
                                  String description) throws IOException {
        response.setStatus(status);
        if (wwwAuthenticate != null) {
            response.setHeader("WWW-Authenticate", wwwAuthenticate);
        }
        response.setHeader("Cache-Control", "no-store");
        response.setContentType("application/json");
        response.getWriter().write(JSON.writeValueAsString(Map.of("error", error, "error_description", description)));
    }

    /** The request with its body replayed. */
    static final class Replay extends HttpServletRequestWrapper {
        private final byte[] body;

        Replay(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8));
        }

        @Override
        public int getContentLength() {
            return body.length;
        }
    }
}
