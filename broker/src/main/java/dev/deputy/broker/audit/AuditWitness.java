package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.config.DeputySettings;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes every signed checkpoint outside the database, so that someone who can write the database cannot cut
 * or rewrite the chain together with the checkpoints that cover it:
 * <ul>
 *   <li>an append-only <b>witness file</b> per tenant, {@code <data dir>/audit-witness/<tenant>.jsonl} (0600, one
 *       checkpoint line per checkpoint in the export's {@code checkpoint} line format, forced to disk before the
 *       checkpoint counts as witnessed);</li>
 *   <li>any configured <b>HTTP sinks</b> ({@code deputy.audit.witness.urls}, env {@code DEPUTY_AUDIT_WITNESS_URLS},
 *       comma-separated): each checkpoint's compact JWS is POSTed ({@code Content-Type: application/jwt}) by a
 *       background sender per sink, retried with exponential backoff (1 s doubling to 60 s); a request never
 *       waits for it; {@link #status} reports each sink's lag.</li>
 * </ul>
 * At start ({@link #compare}) and before every checkpoint ({@link AuditCheckpoints}) the chain in the database is
 * compared with the last witnessed head: a chain that is shorter (cut) or has another hash at the witnessed
 * position (rewritten) is refused: appends to it fail with {@link ChainRefused} (503) and it is never signed again
 * until an operator resolves it (docs/audit.md, "Witnessed heads").
 */
@Singleton
public class AuditWitness {
    private static final Logger LOG = LoggerFactory.getLogger(AuditWitness.class);
    public static final String DIR = "audit-witness";
    private static final long MAX_BACKOFF_MS = 60_000;

    private final Path dir; // null: no witness file (tests that do not want one)
    private final List<Sink> sinks = new ArrayList<>();
    private final Map<String, AuditEntry.Head> heads = new ConcurrentHashMap<>();
    private final Map<String, String> refused = new ConcurrentHashMap<>();
    private final List<java.util.function.Consumer<Comparison>> onRefused = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Inject
    public AuditWitness(DeputySettings settings, @Value("${deputy.audit.witness.urls:}") List<String> urls) {
        this(settings.dataDir().resolve(DIR), urls);
    }

    public AuditWitness(Path dir, List<String> urls) {
        this.dir = dir;
        HttpClient http = urls == null || urls.stream().allMatch(String::isBlank) ? null
                : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        if (urls != null) {
            for (String u : urls) {
                if (!u.isBlank()) {
                    sinks.add(new Sink(URI.create(u.strip()), http));
                }
            }
        }
        if (dir != null) {
            loadHeads();
        }
    }

    /** A witness that keeps nothing (tests of other parts). */
    public static AuditWitness none() {
        return new AuditWitness((Path) null, List.of());
    }

    /** The chain of this tenant is refused (behind or diverging from its witness): 503 to every append. */
    public static final class ChainRefused extends RuntimeException {
        private final String tenantId;

        public ChainRefused(String tenantId, String reason) {
            super("the audit chain of tenant " + tenantId + " is refused: " + reason);
            this.tenantId = tenantId;
        }

        public String tenantId() {
            return tenantId;
        }
    }

    /** How the database's chain stands against the witness. */
    public record Comparison(String tenantId, String kind, long witnessedSeq, String witnessedHash, long dbHeadSeq,
                             String message) {
        public boolean refused() {
            return "cut".equals(kind) || "rewritten".equals(kind);
        }
    }

    // --- the file -----------------------------------------------------------------------------------------------

    public Optional<Path> file(String tenantId) {
        return dir == null ? Optional.empty()
                : Optional.of(dir.resolve(URLEncoder.encode(tenantId, StandardCharsets.UTF_8) + ".jsonl"));
    }

    private void loadHeads() {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).toList()) {
                String name = f.getFileName().toString();
                String tenant = URLDecoder.decode(name.substring(0, name.length() - ".jsonl".length()), StandardCharsets.UTF_8);
                List<Witnessed> ws = read(tail(f));
                ws.stream().filter(w -> tenant.equals(w.tenant())).max(Comparator.comparingLong(Witnessed::seq))
                        .ifPresent(w -> heads.put(tenant, new AuditEntry.Head(w.seq(), w.head())));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the audit witness directory " + dir, e);
        }
    }

    /** The last lines of a witness file (its last 64 KiB): the start-up check needs only the latest head. */
    static List<String> tail(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            long size = ch.size();
            int n = (int) Math.min(size, TAIL_BYTES);
            ByteBuffer b = ByteBuffer.allocate(n);
            ch.read(b, size - n);
            List<String> lines = new ArrayList<>(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).lines().toList());
            if (size > n && !lines.isEmpty()) {
                lines.remove(0); // cut in the middle
            }
            return lines;
        }
    }

    private static final int TAIL_BYTES = 64 * 1024;

    /**
     * Witnesses a checkpoint: appends it to the tenant's file (forced to disk) and queues it for every sink.
     * Returns once the file line is durable; the sinks deliver later.
     */
    public void publish(AuditCheckpoint c) {
        synchronized (this) {
            if (dir != null) {
                writeLine(c);
            }
            heads.merge(c.tenantId(), new AuditEntry.Head(c.seq(), c.headHash()),
                    (a, b) -> b.seq() >= a.seq() ? b : a);
        }
        for (Sink s : sinks) {
            s.offer(c);
        }
    }

    private void writeLine(AuditCheckpoint c) {
        Path f = file(c.tenantId()).orElseThrow();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("type", "checkpoint");
        line.putAll(AuditJson.checkpoint(c));
        try {
            Files.createDirectories(dir);
            if (!Files.exists(f)) {
                try {
                    Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                } catch (FileAlreadyExistsException ignored) {
                    // made meanwhile
                } catch (UnsupportedOperationException e) {
                    Files.createFile(f);
                }
                forceDir();
            }
            byte[] bytes = (AuditJson.MAPPER.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the audit witness " + f, e);
        }
    }

    private void forceDir() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // not every file system lets a directory be opened
        }
    }

    /** The last witnessed head of the tenant's chain (from the file at start, then every publish). */
    public Optional<AuditEntry.Head> witnessed(String tenantId) {
        return Optional.ofNullable(heads.get(tenantId));
    }

    public java.util.Set<String> witnessedTenants() {
        return heads.keySet();
    }

    // --- refusal ------------------------------------------------------------------------------------------------

    /** Throws {@link ChainRefused} when this tenant's chain is refused. */
    public void checkAppendable(String tenantId) {
        String reason = refused.get(tenantId);
        if (reason != null) {
            throw new ChainRefused(tenantId, reason);
        }
    }

    public Optional<String> refusal(String tenantId) {
        return Optional.ofNullable(refused.get(tenantId));
    }

    public Map<String, String> refusals() {
        return Map.copyOf(refused);
    }

    /** Called once per chain when it is first refused (the log line and the audit entry). */
    public void onRefused(java.util.function.Consumer<Comparison> listener) {
        onRefused.add(listener);
    }

    /**
     * Compares the database's chain with the last witnessed head: {@code cut} when the chain ends before the
     * witnessed seq, {@code rewritten} when the entry there has another hash, {@code extended} when entries follow
     * the witnessed head (normal for the last seconds before a stop), {@code same} when the head is the witnessed
     * one, {@code unwitnessed} when nothing was witnessed. Refused kinds are remembered: appends then fail.
     */
    public Comparison compare(String tenantId, AuditStore store) {
        return compare(tenantId, store, store.head(tenantId).map(AuditEntry::seq).orElse(0L));
    }

    /**
     * The same, for a caller that has just read the database's head ({@code dbSeq}: its seq, 0 for an empty chain)
     * and need not read it again (a checkpoint).
     */
    public Comparison compare(String tenantId, AuditStore store, long dbSeq) {
        AuditEntry.Head w = heads.get(tenantId);
        if (w == null) {
            return new Comparison(tenantId, "unwitnessed", 0, null, dbSeq, "no witnessed checkpoint");
        }
        Comparison c;
        if (dbSeq < w.seq()) {
            c = new Comparison(tenantId, "cut", w.seq(), w.hash(), dbSeq, "the database's chain ends at " + dbSeq
                    + " but entry " + w.seq() + " was witnessed: entries " + (dbSeq + 1) + ".." + w.seq() + " were removed");
        } else {
            List<AuditEntry> at = store.range(tenantId, w.seq(), 1);
            boolean archived = at.isEmpty() || at.get(0).seq() != w.seq();
            if (archived && store.archives(tenantId).stream().anyMatch(a -> a.toSeq() >= w.seq())) {
                // archived since: the archive's checkpoint (and its file) carry the proof
                c = new Comparison(tenantId, "archived", w.seq(), w.hash(), dbSeq, "the witnessed entry was archived");
            } else if (archived || !at.get(0).hash().equals(w.hash())) {
                c = new Comparison(tenantId, "rewritten", w.seq(), w.hash(), dbSeq, "entry " + w.seq()
                        + (archived ? " is missing" : " has hash " + at.get(0).hash()) + " but the witness recorded "
                        + w.hash() + ": the chain was rewritten at or before it");
            } else if (dbSeq > w.seq()) {
                c = new Comparison(tenantId, "extended", w.seq(), w.hash(), dbSeq, "entries " + (w.seq() + 1) + ".."
                        + dbSeq + " follow the last witnessed head (not witnessed yet)");
            } else {
                c = new Comparison(tenantId, "same", w.seq(), w.hash(), dbSeq, "the head is the witnessed head");
            }
        }
        if (c.refused() && refused.putIfAbsent(tenantId, c.kind() + ": " + c.message()) == null) {
            for (var l : onRefused) {
                try {
                    l.accept(c);
                } catch (RuntimeException e) {
                    LOG.error("audit witness: refusal listener failed: {}", e.toString());
                }
            }
        }
        return c;
    }

    // --- reading a witness (file or URL) --------------------------------------------------------------------------

    /** Parses witness lines (see {@link Witnessed#read(List, java.util.function.Consumer)}); unreadable lines are logged. */
    public static List<Witnessed> read(List<String> lines) {
        return Witnessed.read(lines, why -> LOG.warn("audit witness: unreadable line skipped ({})", why));
    }

    /** Reads a witness from a file path or an http(s) URL (GET, the JSONL or JWS lines). */
    public static List<Witnessed> read(String fileOrUrl) throws IOException {
        return Witnessed.read(fileOrUrl, why -> LOG.warn("audit witness: unreadable line skipped ({})", why));
    }

    // --- HTTP sinks -------------------------------------------------------------------------------------------------

    /** A sink's delivery state, for operators: what was delivered, what waits, since when, the last error. */
    public record SinkStatus(String url, long delivered, long pending, long lagMs, long lastDeliveredSeq,
                             String lastError) {
    }

    public List<SinkStatus> status() {
        return sinks.stream().map(Sink::status).toList();
    }

    private static final class Sink {
        final URI url;
        final HttpClient http;
        final LinkedBlockingDeque<Queued> queue = new LinkedBlockingDeque<>(100_000);
        final AtomicLong delivered = new AtomicLong();
        volatile Queued inFlight; // taken from the queue, not delivered yet
        volatile long lastSeq;
        volatile String lastError;

        record Queued(AuditCheckpoint c, long queuedAtMs) {
        }

        Sink(URI url, HttpClient http) {
            this.url = url;
            this.http = http;
            Thread.ofVirtual().name("deputy-audit-witness-" + url.getHost()).start(this::run);
        }

        void offer(AuditCheckpoint c) {
            if (!queue.offerLast(new Queued(c, System.currentTimeMillis()))) {
                lastError = "queue full: checkpoint " + c.tenantId() + "@" + c.seq() + " dropped";
                LOG.error("audit witness {}: {}", url, lastError);
            }
        }

        SinkStatus status() {
            Queued first = inFlight != null ? inFlight : queue.peekFirst();
            return new SinkStatus(url.toString(), delivered.get(), queue.size() + (inFlight != null ? 1 : 0),
                    first == null ? 0 : System.currentTimeMillis() - first.queuedAtMs(), lastSeq, lastError);
        }

        void run() {
            long backoff = 1_000;
            while (true) {
                Queued q;
                try {
                    q = queue.pollFirst(1, TimeUnit.DAYS);
                } catch (InterruptedException e) {
                    return;
                }
                if (q == null) {
                    continue;
                }
                inFlight = q;
                while (true) {
                    try {
                        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                                        .header("Content-Type", "application/jwt")
                                        .header("X-Deputy-Tenant", q.c().tenantId())
                                        .header("X-Deputy-Seq", Long.toString(q.c().seq()))
                                        .POST(HttpRequest.BodyPublishers.ofString(q.c().jws())).build(),
                                HttpResponse.BodyHandlers.discarding());
                        if (r.statusCode() / 100 == 2) {
                            delivered.incrementAndGet();
                            lastSeq = q.c().seq();
                            inFlight = null;
                            lastError = null;
                            backoff = 1_000;
                            break;
                        }
                        lastError = "HTTP " + r.statusCode();
                    } catch (IOException e) {
                        lastError = e.toString();
                    } catch (InterruptedException e) {
                        return;
                    }
                    LOG.warn("audit witness {}: delivery of {}@{} failed ({}); retrying in {} ms", url,
                            q.c().tenantId(), q.c().seq(), lastError, backoff);
                    try {
                        Thread.sleep(backoff);
                    } catch (InterruptedException e) {
                        return;
                    }
                    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
                }
            }
        }
    }
}
