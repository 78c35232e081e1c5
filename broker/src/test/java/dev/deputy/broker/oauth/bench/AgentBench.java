package dev.deputy.broker.oauth.bench;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.keys.CryptoProvider;
import dev.deputy.broker.pki.AgentCa;
import dev.deputy.broker.pki.Pem;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import io.micronaut.context.ApplicationContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tooling for scripts/bench-agents (not a test):
 * <pre>
 * provision  &lt;bench dir&gt;                      agents, roles, resource, keys and an mTLS certificate (broker NOT running)
 * assertions &lt;bench dir&gt; &lt;aud&gt; &lt;n&gt; &lt;files&gt;   n form bodies with fresh ES256 assertions, split into files
 * load       &lt;bench dir&gt; &lt;https base&gt; token|introspect|exchange &lt;workers&gt; &lt;seconds&gt;   mTLS keep-alive load, req/s p50 p99
 * </pre>
 * Settings for provision come from the same DEPUTY_* variables as the broker. Provision also mints a user's access
 * token (the subject of the token-exchange load, valid as long as the tenant's access token lifetime allows) and
 * writes a delegation policy that lets the mTLS agent act for every user; the broker reads it when it starts.
 */
public final class AgentBench {
    static final String TENANT = "demo";
    static final String JWT_AGENT = "bench-jwt";
    static final String MTLS_AGENT = "bench-mtls";
    static final char[] PW = "bench".toCharArray();
    static final String RESOURCE = "https://files.bench.example/mcp";
    static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
    static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "provision" -> provision(Path.of(args[1]));
            case "assertions" -> assertions(Path.of(args[1]), args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            case "load" -> load(Path.of(args[1]), args[2], args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    static void provision(Path benchDir) throws Exception {
        Files.createDirectories(benchDir);
        Map<String, Object> props = new HashMap<>();
        props.put("deputy.data-dir", System.getenv("DEPUTY_DATA_DIR"));
        props.put("deputy.config-dir", System.getenv("DEPUTY_CONFIG_DIR"));
        props.put("deputy.public-url", System.getenv("DEPUTY_PUBLIC_URL"));
        props.put("deputy.mysql.url", env("DEPUTY_MYSQL_URL"));
        props.put("deputy.redis.uri", env("DEPUTY_REDIS_URI"));
        props.put("deputy.redis.prefix", System.getenv().getOrDefault("DEPUTY_REDIS_PREFIX", "deputy:"));
        try (ApplicationContext ctx = ApplicationContext.run(props)) {
            AgentStore store = ctx.getBean(AgentStore.class);
            store.saveRole(new Role(TENANT, "bench-reader", "bench", List.of("files:read", "files:list"), List.of(), "api"));
            store.saveResource(new Resource(TENANT, "bench-files", RESOURCE,
                    "bench files", List.of("files:read", "files:list"), true, "api"));
            long now = System.currentTimeMillis();
            for (var a : List.of(new Object[]{JWT_AGENT, Agent.AuthMethod.PRIVATE_KEY_JWT},
                    new Object[]{MTLS_AGENT, Agent.AuthMethod.TLS_CLIENT_AUTH})) {
                store.saveAgent(new Agent(TENANT, (String) a[0], (String) a[0], "bench@example.com", "prod",
                        List.of("bench-reader"), Map.of(), Agent.Status.ACTIVE, (Agent.AuthMethod) a[1], "api", now, now,
                        null, null));
            }
            ECKey key = new ECKeyGenerator(Curve.P_256).keyID("bench-1").generate();
            Files.writeString(benchDir.resolve("jwt-key.json"), key.toJSONString());
            store.revokeCredentials(TENANT, JWT_AGENT);
            store.saveCredential(new AgentCredential(TENANT, "bench-jwks-" + UUID.randomUUID().toString().substring(0, 8),
                    JWT_AGENT, AgentCredential.Kind.JWKS, null, null, new JWKSet(key.toPublicJWK()).toString(), null, null,
                    null, AgentCredential.Status.ACTIVE, now));
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = g.generateKeyPair();
            String csr = Pem.write(new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + MTLS_AGENT), kp.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
            AgentCa.Issued issued = ctx.getBean(AgentCa.class).issue(TENANT, MTLS_AGENT, csr, Duration.ofHours(24));
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("agent", kp.getPrivate(), PW, new X509Certificate[]{Pem.certificate(issued.certificatePem())});
            try (FileOutputStream out = new FileOutputStream(benchDir.resolve("mtls.p12").toFile())) {
                ks.store(out, PW);
            }
            // the subject of the token-exchange load: a signed-in user's token for an MCP client
            String user = ctx.getBean(AccessTokens.class).mint(new AccessTokenSpec(TENANT, "bench-user-1",
                    "https://idp.bench.example/", List.of(), "bench-mcp-client", RESOURCE, List.of("files:read", "files:list"),
                    null, null, Duration.ofHours(1), Map.of())).token();
            Files.writeString(benchDir.resolve("user-token.txt"), user);
            Path policies = Path.of(System.getenv("DEPUTY_CONFIG_DIR"), "tenants", TENANT, "policies");
            Files.createDirectories(policies);
            Files.writeString(policies.resolve("bench-delegation.yml"), """
                    max_chain_depth: 3
                    delegation:
                      - id: bench-mtls-for-everyone
                        agents: [%s]
                        users: {all: true}
                        resources: ["*"]
                        scopes: ["*"]
                    """.formatted(MTLS_AGENT));
            ctx.getBean(AgentChanges.class).changed(TENANT, JWT_AGENT);
            ctx.getBean(AgentChanges.class).changed(TENANT, MTLS_AGENT);
            System.out.println("provisioned " + JWT_AGENT + " (private_key_jwt ES256) and " + MTLS_AGENT
                    + " (tls_client_auth, serial " + issued.serial() + ")");
        }
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "" : v;
    }

    /** Pre-generated request bodies: a Lua script cannot sign ES256. Each assertion has its own jti. */
    static void assertions(Path benchDir, String aud, int n, int files) throws Exception {
        ECKey key = JWK.parse(Files.readString(benchDir.resolve("jwt-key.json"))).toECKey();
        ECDSASigner signer = new ECDSASigner(key);
        if (CryptoProvider.get() != null) {
            signer.getJCAContext().setProvider(CryptoProvider.get());
        }
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build();
        Instant now = Instant.now();
        // RFC 7523: exp within the broker's bound (5 min): the run must start right after generation
        Date exp = Date.from(now.plusSeconds(280));
        String prefix = "grant_type=client_credentials&client_assertion_type="
                + URLEncoder.encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", StandardCharsets.UTF_8)
                + "&client_assertion=";
        BufferedWriter[] out = new BufferedWriter[files];
        for (int f = 0; f < files; f++) {
            out[f] = Files.newBufferedWriter(benchDir.resolve("bodies." + (f + 1)));
        }
        for (int i = 0; i < n; i++) {
            SignedJWT jwt = new SignedJWT(header, new JWTClaimsSet.Builder().issuer(JWT_AGENT).subject(JWT_AGENT)
                    .audience(aud).expirationTime(exp).issueTime(Date.from(now)).jwtID(UUID.randomUUID().toString())
                    .build());
            jwt.sign(signer);
            out[i % files].write(prefix + jwt.serialize());
            out[i % files].newLine();
        }
        for (BufferedWriter w : out) {
            w.close();
        }
        System.out.println("wrote " + n + " bodies in " + files + " files (exp " + exp.toInstant() + ")");
    }

    /** A fixed number of workers, each on its own keep-alive mTLS connection; reports req/s, p50, p99. */
    static void load(Path benchDir, String base, String mode, int workers, int seconds) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(benchDir.resolve("mtls.p12").toFile())) {
            ks.load(in, PW);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PW);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), new TrustManager[]{new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] c, String a) {
            }

            public void checkServerTrusted(X509Certificate[] c, String a) {
            }

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, new SecureRandom());
        HttpClient client = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1)
                .executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()).build();
        String tokenBody = "grant_type=client_credentials&client_id=" + MTLS_AGENT;
        String body;
        String path;
        if (mode.equals("token")) {
            body = tokenBody;
            path = "/t/demo/token";
        } else if (mode.equals("exchange")) {
            // RFC 8693: the agent (mTLS) exchanges the user's token for one naming the user with itself as actor
            body = tokenBody.replace("client_credentials", URLEncoder.encode(EXCHANGE, StandardCharsets.UTF_8))
                    + "&subject_token=" + Files.readString(benchDir.resolve("user-token.txt")).trim()
                    + "&subject_token_type=" + URLEncoder.encode(ACCESS_TOKEN_TYPE, StandardCharsets.UTF_8)
                    + "&resource=" + URLEncoder.encode(RESOURCE, StandardCharsets.UTF_8);
            HttpResponse<String> t = post(client, base + "/t/demo/token", body);
            if (t.statusCode() != 200 || !t.body().contains("\"issued_token_type\"")) {
                throw new IllegalStateException("exchange: " + t.statusCode() + " " + t.body());
            }
            path = "/t/demo/token";
        } else {
            HttpResponse<String> t = post(client, base + "/t/demo/token", tokenBody);
            if (t.statusCode() != 200) {
                throw new IllegalStateException("token: " + t.statusCode() + " " + t.body());
            }
            String token = t.body().replaceAll(".*\"access_token\"\\s*:\\s*\"([^\"]+)\".*", "$1");
            body = "client_id=" + MTLS_AGENT + "&token=" + token;
            path = "/t/demo/introspect";
        }
        // warm-up (the JIT is still compiling the broker's hot paths for the first 10-20 s)
        long warmEnd = System.nanoTime() + Duration.ofSeconds(Long.parseLong(
                System.getenv().getOrDefault("BENCH_WARMUP", "10"))).toNanos();
        runWorkers(ssl, base + path, body, workers, warmEnd, null);
        AtomicLong errors = new AtomicLong();
        long cpu0 = brokerCpuTicks();
        long start = System.nanoTime();
        long end = start + Duration.ofSeconds(seconds).toNanos();
        List<long[]> lat = runWorkers(ssl, base + path, body, workers, end, errors);
        double elapsed = (System.nanoTime() - start) / 1e9;
        long cpu1 = brokerCpuTicks();
        int total = lat.stream().mapToInt(a -> (int) a[0]).sum();
        long[] all = new long[total];
        int k = 0;
        for (long[] a : lat) {
            System.arraycopy(a, 1, all, k, (int) a[0]);
            k += (int) a[0];
        }
        Arrays.sort(all);
        System.out.printf("%s: %d requests in %.1f s = %.0f req/s, p50 %.2f ms, p99 %.2f ms, errors %d%n", mode, total,
                elapsed, total / elapsed, all[total / 2] / 1e6, all[(int) (total * 0.99)] / 1e6, errors.get());
        if (cpu0 >= 0 && cpu1 >= 0) {
            // clock ticks of 10 ms (CLK_TCK = 100 on Linux)
            System.out.printf("broker CPU: %.1f s over the run = %.2f ms per request%n", (cpu1 - cpu0) / 100.0,
                    (cpu1 - cpu0) * 10.0 / Math.max(1, total));
        }
    }

    /**
     * Workers on platform threads, each with its own keep-alive TLS connection (its client certificate from
     * the context) over a plain SSLSocket: a prebuilt HTTP/1.1 request, the response read by its Content-Length.
     * The JDK HttpClient cost about as much CPU per request as the broker did for introspection, on the same two
     * cores; this client costs a fraction of it.
     */
    private static List<long[]> runWorkers(SSLContext ssl, String url, String body, int workers, long end,
                                           AtomicLong errors) throws Exception {
        URI u = URI.create(url);
        byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST " + u.getRawPath() + " HTTP/1.1\r\nHost: " + u.getHost() + ":" + u.getPort()
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + bodyBytes.length
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] request = Arrays.copyOf(head, head.length + bodyBytes.length);
        System.arraycopy(bodyBytes, 0, request, head.length, bodyBytes.length);
        List<Thread> threads = new ArrayList<>();
        List<long[][]> holderList = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            long[][] holder = new long[1][];
            Thread t = Thread.ofPlatform().start(() -> {
                long[] l = new long[1 << 16];
                int n = 0;
                javax.net.ssl.SSLSocket socket = null;
                java.io.InputStream in = null;
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try {
                        if (socket == null) {
                            socket = (javax.net.ssl.SSLSocket) ssl.getSocketFactory().createSocket(u.getHost(), u.getPort());
                            socket.setTcpNoDelay(true);
                            socket.startHandshake();
                            in = new java.io.BufferedInputStream(socket.getInputStream(), 16_384);
                        }
                        socket.getOutputStream().write(request);
                        socket.getOutputStream().flush();
                        if (readResponse(in) != 200 && errors != null) {
                            errors.incrementAndGet();
                        }
                    } catch (Exception e) {
                        if (errors != null) {
                            errors.incrementAndGet();
                        }
                        try {
                            if (socket != null) {
                                socket.close();
                            }
                        } catch (Exception ignored) {
                            // reconnect
                        }
                        socket = null;
                    }
                    if (n + 2 >= l.length) {
                        l = Arrays.copyOf(l, l.length * 2);
                    }
                    l[1 + n++] = System.nanoTime() - t0;
                }
                try {
                    if (socket != null) {
                        socket.close();
                    }
                } catch (Exception ignored) {
                    // done
                }
                l[0] = n;
                holder[0] = l;
            });
            threads.add(t);
            holderList.add(holder);
        }
        for (Thread t : threads) {
            t.join();
        }
        List<long[]> out = new ArrayList<>();
        for (long[][] h : holderList) {
            out.add(h[0]);
        }
        return out;
    }

    /** Reads one HTTP/1.1 response with a Content-Length body; returns its status. */
    private static int readResponse(java.io.InputStream in) throws java.io.IOException {
        StringBuilder line = new StringBuilder();
        int status = -1;
        int length = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new java.io.EOFException("connection closed");
            }
            if (c != '\n') {
                if (c != '\r') {
                    line.append((char) c);
                }
                continue;
            }
            if (line.isEmpty()) {
                break; // end of the header
            }
            String h = line.toString();
            if (status < 0) {
                status = Integer.parseInt(h.substring(9, 12));
            } else if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(h.substring(15).trim());
            } else if (h.regionMatches(true, 0, "transfer-encoding:", 0, 18)) {
                throw new java.io.IOException("chunked responses are not expected here");
            }
            line.setLength(0);
        }
        in.readNBytes(length);
        return status;
    }

    /** utime + stime of the broker process (BENCH_BROKER_PID), in clock ticks; -1 when unknown. */
    private static long brokerCpuTicks() {
        String pid = System.getenv("BENCH_BROKER_PID");
        if (pid == null) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
        } catch (Exception e) {
            return -1;
        }
    }

    static HttpResponse<String> post(HttpClient client, String url, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
