package dev.deputy.broker.tracing;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * An OTLP/HTTP receiver on a random loopback port: accepts {@code POST /v1/traces} with an
 * {@code ExportTraceServiceRequest} in protobuf (what the SDK's OTLP exporter sends) and keeps the spans. The message
 * is decoded by field number (opentelemetry-proto's trace.proto) with protobuf's {@link UnknownFieldSet}.
 */
final class OtlpReceiver implements AutoCloseable {
    /** One received span; ids in lower-case hex, parent "" for a root. */
    record ReceivedSpan(String traceId, String spanId, String parentSpanId, String name, int kind,
                        Map<String, Object> attributes) {
    }

    private final HttpServer server;
    private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();
    final List<String> contentTypes = new CopyOnWriteArrayList<>();

    OtlpReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/traces", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                contentTypes.add(String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type")));
                spans.addAll(decode(in.readAllBytes()));
                exchange.sendResponseHeaders(200, -1);
            } catch (RuntimeException e) {
                exchange.sendResponseHeaders(400, -1);
            } finally {
                exchange.close();
            }
        });
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces";
    }

    List<ReceivedSpan> spans() {
        return List.copyOf(spans);
    }

    /** Waits until {@code done} holds for the received spans (the exporter batches), at most {@code max}. */
    List<ReceivedSpan> await(Predicate<List<ReceivedSpan>> done, Duration max) throws InterruptedException {
        long end = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < end) {
            List<ReceivedSpan> now = spans();
            if (done.test(now)) {
                return now;
            }
            Thread.sleep(20);
        }
        return spans();
    }

    static List<ReceivedSpan> decode(byte[] body) {
        List<ReceivedSpan> out = new ArrayList<>();
        try {
            UnknownFieldSet request = UnknownFieldSet.parseFrom(body);
            for (ByteString rs : lengthDelimited(request, 1)) {            // resource_spans
                for (ByteString ss : lengthDelimited(UnknownFieldSet.parseFrom(rs), 2)) { // scope_spans
                    for (ByteString sp : lengthDelimited(UnknownFieldSet.parseFrom(ss), 2)) { // spans
                        UnknownFieldSet span = UnknownFieldSet.parseFrom(sp);
                        Map<String, Object> attrs = new LinkedHashMap<>();
                        for (ByteString kv : lengthDelimited(span, 9)) {       // attributes: KeyValue
                            UnknownFieldSet f = UnknownFieldSet.parseFrom(kv);
                            String key = lengthDelimited(f, 1).get(0).toStringUtf8();
                            UnknownFieldSet any = UnknownFieldSet.parseFrom(lengthDelimited(f, 2).get(0));
                            Object value = any.hasField(1) ? any.getField(1).getLengthDelimitedList().get(0).toStringUtf8()
                                    : any.hasField(2) ? any.getField(2).getVarintList().get(0) != 0
                                    : any.hasField(3) ? any.getField(3).getVarintList().get(0) : null;
                            attrs.put(key, value);
                        }
                        List<ByteString> parent = lengthDelimited(span, 4);
                        int kind = span.hasField(6) ? span.getField(6).getVarintList().get(0).intValue() : 0;
                        out.add(new ReceivedSpan(hex(lengthDelimited(span, 1).get(0)), hex(lengthDelimited(span, 2).get(0)),
                                parent.isEmpty() ? "" : hex(parent.get(0)), lengthDelimited(span, 5).get(0).toStringUtf8(),
                                kind, attrs));
                    }
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(e);
        }
        return out;
    }

    private static List<ByteString> lengthDelimited(UnknownFieldSet set, int field) {
        return set.hasField(field) ? set.getField(field).getLengthDelimitedList() : List.of();
    }

    private static String hex(ByteString b) {
        return HexFormat.of().formatHex(b.toByteArray());
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
