package dev.deputy.broker.storage;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.keys.CryptoProvider;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;

/**
 * Issue 16 (session 10): bytes allocated — and CPU, which on a shared machine is only indicative — per token by the
 * pieces of the private_key_jwt client_credentials path that session 10 changed, measured in-process with
 * {@code ThreadMXBean} (machine-independent, unlike a load run's throughput):
 * <ul>
 *   <li>{@code sign}: mint and sign an RFC 9068 token with the ES256 key through the broker's crypto provider, the JWS
 *       header built per token (before) against one parsed header reused ({@code SigningKeys} now);</li>
 *   <li>{@code audit}: a {@code token.issued} event built, sealed (the writer), its hash re-verified (the checkpoint's
 *       read-back), its batch of 8 journaled into a reused record buffer (the embedded default's journal);</li>
 *   <li>{@code redis}: {@code SET key 1 NX PX} (the {@code jti} mark) from 32 virtual threads, through the synchronous
 *       API (before) and the asynchronous one with an untimed wait ({@code RedisEphemeralStore.markUsed} now); bytes of
 *       every thread, CPU of the whole process.</li>
 * </ul>
 * Run (after {@code mvn -o -pl broker -am package -DskipTests}):
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp broker/target/deputy-broker.jar:broker/target/test-classes \
 *   dev.deputy.broker.storage.TokenPathAllocation sign|audit|redis [count] [redis://127.0.0.1:6379]
 * </pre>
 */
public final class TokenPathAllocation {
    private static final com.sun.management.ThreadMXBean TM =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final String AGENT = "agt_01JXYZABCDEFGHJKMNPQRSTVWX";

    private TokenPathAllocation() {
    }

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "sign";
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        switch (what) {
            case "sign" -> sign(n);
            case "audit" -> audit(n);
            case "redis" -> redis(args.length > 2 ? args[2] : "redis://127.0.0.1:6379", n);
            default -> throw new IllegalArgumentException("sign, audit or redis");
        }
    }

    private static long allocated() {
        return TM.getThreadAllocatedBytes(Thread.currentThread().threadId());
    }

    static JWTClaimsSet claims() {
        return new JWTClaimsSet.Builder().issuer("http://127.0.0.1:8080/t/demo").subject(AGENT)
                .audience("https://mcp.example.com/").expirationTime(new Date(System.currentTimeMillis() + 300_000))
                .issueTime(new Date()).jwtID(UUID.randomUUID().toString()).claim("client_id", AGENT)
                .claim("tenant", "demo").claim("scope", "tools.read tools.write").build();
    }

    static void sign(int n) throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        ECDSASigner signer = new ECDSASigner(key);
        if (CryptoProvider.get() != null) {
            signer.getJCAContext().setProvider(CryptoProvider.get());
        }
        JOSEObjectType typ = new JOSEObjectType("at+jwt");
        JWSHeader parsed = JWSHeader.parse(new JWSHeader.Builder(JWSAlgorithm.ES256).type(typ).keyID("k1").build().toBase64URL());
        System.out.println("crypto provider: " + CryptoProvider.describe());
        for (int round = 0; round < 5; round++) {
            for (int way = 0; way < 2; way++) {
                long b0 = allocated();
                long c0 = TM.getCurrentThreadCpuTime();
                for (int i = 0; i < n; i++) {
                    JWSHeader h = way == 0 ? new JWSHeader.Builder(JWSAlgorithm.ES256).type(typ).keyID("k1").build() : parsed;
                    SignedJWT jwt = new SignedJWT(h, claims());
                    jwt.sign(signer);
                    jwt.serialize();
                }
                System.out.printf("round %d  %-26s %7.0f B/token  %6.1f us CPU/token%n", round,
                        way == 0 ? "header built per token" : "parsed header reused",
                        (allocated() - b0) / (double) n, (TM.getCurrentThreadCpuTime() - c0) / 1e3 / n);
            }
        }
    }

    static void audit(int n) {
        AuditJournal.RecordBytes record = new AuditJournal.RecordBytes();
        for (int round = 0; round < 5; round++) {
            long b0 = allocated();
            List<AuditEvent> events = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                events.add(AuditEvent.of("demo", "token.issued", AuditEvent.Outcome.SUCCESS).subject(AGENT, null)
                        .agent(AGENT).client(AGENT).resource("https://mcp.example.com/").scopes("tools.read tools.write")
                        .detail("grant_type", "client_credentials").detail("jti", UUID.randomUUID().toString())
                        .detail("auth_method", "private_key_jwt").detail("cert_bound", false)
                        .detail("exp", 1_765_100_000L + i).build());
            }
            long b1 = allocated();
            List<AuditEntry> sealed = new ArrayList<>(n);
            String prev = AuditEntry.GENESIS;
            for (int i = 0; i < n; i++) {
                AuditEntry e = AuditSeal.seal(events.get(i), i + 1, 1_765_000_000_000L + i, prev);
                sealed.add(e);
                prev = e.hash();
            }
            long b2 = allocated();
            for (AuditEntry e : sealed) {
                if (!e.hashMatches()) {
                    throw new IllegalStateException("entry " + e.seq() + " does not verify");
                }
            }
            long b3 = allocated();
            for (int i = 0; i + 8 <= n; i += 8) {
                AuditJournal.encodeInto(record, sealed.subList(i, i + 8));
            }
            long b4 = allocated();
            System.out.printf("round %d  event %5.0f B | seal %5.0f B | re-verify %5.0f B | journal record %5.0f B per entry%n",
                    round, (b1 - b0) / (double) n, (b2 - b1) / (double) n, (b3 - b2) / (double) n, (b4 - b3) / (double) n);
        }
    }

    private static long allThreadsAllocated() {
        long s = 0;
        for (long id : TM.getAllThreadIds()) {
            long b = TM.getThreadAllocatedBytes(id);
            s += Math.max(0, b);
        }
        return s;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static void redis(String uri, int n) throws Exception {
        RedisClient client = RedisClient.create(RedisURI.create(uri));
        client.setOptions(io.lettuce.core.ClientOptions.builder()
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2))).build());
        try (var conn = client.connect()) {
            var sync = conn.sync();
            var async = conn.async();
            String prefix = "deputy-token-path-allocation:" + UUID.randomUUID() + ":";
            int threads = 32;
            for (int round = 0; round < 5; round++) {
                for (int way = 0; way < 2; way++) {
                    final int w = way;
                    final int r = round;
                    long a0 = allThreadsAllocated();
                    long c0 = processCpuNanos();
                    try (var ex = Executors.newVirtualThreadPerTaskExecutor()) {
                        for (int t = 0; t < threads; t++) {
                            final int tt = t;
                            ex.submit(() -> {
                                for (int i = 0; i < n / threads; i++) {
                                    String key = prefix + r + ":" + w + ":" + tt + ":" + i;
                                    SetArgs set = SetArgs.Builder.nx().px(10_000);
                                    String ok = w == 0 ? sync.set(key, "1", set) : async.set(key, "1", set).get();
                                    if (!"OK".equals(ok)) {
                                        throw new IllegalStateException(ok);
                                    }
                                }
                                return null;
                            });
                        }
                    }
                    System.out.printf("round %d  %-32s %6.0f B/SET (all threads)  %5.1f us CPU/SET (process)%n", round,
                            way == 0 ? "sync API (timed park)" : "async API, untimed wait",
                            (allThreadsAllocated() - a0) / (double) n, (processCpuNanos() - c0) / 1e3 / n);
                }
            }
        } finally {
            client.shutdown();
        }
    }
}
