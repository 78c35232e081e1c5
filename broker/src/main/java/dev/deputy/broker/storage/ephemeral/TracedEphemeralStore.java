package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.tracing.Traces;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The ephemeral store with a CLIENT span around each call ({@code redis GET}, {@code redis SET}, ...; on the
 * in-process store {@code ephemeral get}, ...). Only the operation is recorded, never a key or a value: keys hold
 * authorization codes, login states and assertion ids. Used only when tracing is on; off, the store is not wrapped.
 * Calls outside a traced request (the revocation fan-out, start-up) open no span.
 */
final class TracedEphemeralStore implements EphemeralStore {
    private enum Op {
        PUT("SET", "put"), GET("GET", "get"), TAKE("GETDEL", "take"), PUT_IF_ABSENT("SET", "put_if_absent"),
        MARK_USED("SET", "mark_used"),
        INCREMENT("EVAL", "increment"), DELETE("DEL", "delete"), PUBLISH("PUBLISH", "publish");

        final String redis;
        final String local;

        Op(String redis, String local) {
            this.redis = redis;
            this.local = local;
        }
    }

    private final EphemeralStore store;
    private final Traces traces;
    private final boolean redis;
    private final String[] names = new String[Op.values().length];

    /** The store under the spans (the rate limiter's buckets need the Redis store itself). */
    EphemeralStore inner() {
        return store;
    }

    TracedEphemeralStore(EphemeralStore store, Traces traces) {
        this.store = store;
        this.traces = traces;
        this.redis = "redis".equals(store.backend());
        for (Op op : Op.values()) {
            names[op.ordinal()] = redis ? "redis " + op.redis : "ephemeral " + op.local;
        }
    }

    private Traces.Step open(Op op) {
        if (!io.opentelemetry.api.trace.Span.current().getSpanContext().isValid()) {
            return Traces.Step.NONE; // not inside a traced request
        }
        Traces.Step step = traces.client(names[op.ordinal()]);
        if (redis) {
            step.attr("db.system.name", "redis").attr("db.operation.name", op.redis);
        } else {
            step.attr("deputy.ephemeral.operation", op.local);
        }
        return step;
    }

    @Override
    public void put(String key, String value, Duration ttl) {
        try (Traces.Step s = open(Op.PUT)) {
            store.put(key, value, ttl);
        }
    }

    @Override
    public Optional<String> get(String key) {
        try (Traces.Step s = open(Op.GET)) {
            return store.get(key);
        }
    }

    @Override
    public Optional<String> take(String key) {
        try (Traces.Step s = open(Op.TAKE)) {
            return store.take(key);
        }
    }

    @Override
    public boolean putIfAbsent(String key, String value, Duration ttl) {
        try (Traces.Step s = open(Op.PUT_IF_ABSENT)) {
            boolean stored = store.putIfAbsent(key, value, ttl);
            s.attr("deputy.ephemeral.stored", stored);
            return stored;
        }
    }

    @Override
    public boolean markUsed(String key, Duration ttl) {
        try (Traces.Step s = open(Op.MARK_USED)) {
            boolean stored = store.markUsed(key, ttl);
            s.attr("deputy.ephemeral.stored", stored);
            return stored;
        }
    }

    @Override
    public long increment(String key, Duration ttl) {
        try (Traces.Step s = open(Op.INCREMENT)) {
            return store.increment(key, ttl);
        }
    }

    @Override
    public void delete(String key) {
        try (Traces.Step s = open(Op.DELETE)) {
            store.delete(key);
        }
    }

    @Override
    public void publish(String channel, String message) {
        try (Traces.Step s = open(Op.PUBLISH)) {
            store.publish(channel, message);
        }
    }

    @Override
    public AutoCloseable subscribe(String channel, Consumer<String> listener) {
        return store.subscribe(channel, listener);
    }

    @Override
    public String name() {
        return store.name();
    }

    @Override
    public String backend() {
        return store.backend();
    }

    @Override
    public boolean up() {
        return store.up();
    }

    @Override
    public void close() {
        store.close();
    }
}
