package dev.deputy.broker.http;

import io.micronaut.context.annotation.Value;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.netty.channel.ChannelPipelineCustomizer;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.LastHttpContent;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Slow clients (issue 14 finding 7): Netty's idle timeouts restart with every byte, so a client trickling its request
 * line, headers or body a byte at a time holds a connection for as long as it likes. Here each HTTP/1.x request must
 * arrive whole — from its first byte to the end of its body — within {@code deputy.http.request-read-timeout}
 * (default 20 s); otherwise the broker answers {@code 408 Request Timeout} and closes the connection (RFC 9110
 * §15.5.9). Time spent handling a request, and keep-alive time between requests, are not counted (the idle timeout,
 * {@code micronaut.server.idle-timeout}, bounds the latter).
 */
@Singleton
public class RequestDeadlines implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    private static final Logger LOG = LoggerFactory.getLogger(RequestDeadlines.class);
    static final String RAW = "deputy-request-deadline-raw";
    static final String DECODED = "deputy-request-deadline";
    private static final String TIMEOUT_BODY =
            "{\"error\":\"invalid_request\",\"error_description\":\"the request did not arrive in time\"}";
    private static final byte[] TIMEOUT = ("HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
            + "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: " + TIMEOUT_BODY.length() + "\r\n\r\n"
            + TIMEOUT_BODY).getBytes(StandardCharsets.US_ASCII);

    private final long timeoutMs;

    public RequestDeadlines(@Value("${deputy.http.request-read-timeout:20s}") Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("deputy.http.request-read-timeout must be positive");
        }
        this.timeoutMs = timeout.toMillis();
    }

    @Override
    public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
        event.getBean().register(new Customizer(null));
        return event.getBean();
    }

    private final class Customizer implements NettyServerCustomizer {
        private final Channel channel;

        Customizer(Channel channel) {
            this.channel = channel;
        }

        @Override
        public NettyServerCustomizer specializeForChannel(Channel channel, ChannelRole role) {
            return role == ChannelRole.CONNECTION ? new Customizer(channel) : this;
        }

        @Override
        public void onStreamPipelineBuilt() {
            if (channel == null) {
                return;
            }
            ChannelPipeline p = channel.pipeline();
            if (p.get(ChannelPipelineCustomizer.HANDLER_HTTP_SERVER_CODEC) == null || p.get(RAW) != null) {
                return; // HTTP/2 has its own framing and stream limits
            }
            Deadline d = new Deadline(timeoutMs);
            p.addBefore(ChannelPipelineCustomizer.HANDLER_HTTP_SERVER_CODEC, RAW, d.raw);
            p.addAfter(ChannelPipelineCustomizer.HANDLER_HTTP_SERVER_CODEC, DECODED, d.decoded);
        }
    }

    /**
     * One connection's clock: armed by the first byte of a request, disarmed by the end of its body. One timer per
     * connection at most, never one per request: a keep-alive connection serves thousands of requests a second, and a
     * schedule and a cancel on the event loop's timer queue for each of them was measurable on the token endpoint
     * (issue 14). The timer is left pending when a request ends; when it fires it checks the request in progress
     * then (if any) against that request's own start, and re-arms itself for that request's deadline.
     */
    private static final class Deadline {
        private final long timeoutNanos;
        private boolean inRequest;            // event loop only
        private long startedAt;               // event loop only: System.nanoTime() of the current request's first byte
        private ScheduledFuture<?> timer;     // event loop only

        Deadline(long timeoutMs) {
            this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        }

        final ChannelInboundHandlerAdapter raw = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (!inRequest) {
                    inRequest = true;
                    startedAt = System.nanoTime();
                    if (timer == null) {
                        arm(ctx, timeoutNanos);
                    }
                }
                ctx.fireChannelRead(msg);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                inRequest = false;
                if (timer != null) {
                    timer.cancel(false);
                    timer = null;
                }
                ctx.fireChannelInactive();
            }
        };

        final ChannelInboundHandlerAdapter decoded = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof LastHttpContent) {
                    inRequest = false; // the timer stays: the next request of this connection reuses it
                }
                ctx.fireChannelRead(msg);
            }
        };

        private void arm(ChannelHandlerContext ctx, long delayNanos) {
            timer = ctx.executor().schedule(() -> fired(ctx), delayNanos, TimeUnit.NANOSECONDS);
        }

        /** The timer: expire the request in progress if its time is up, else wait for its deadline (or for none). */
        private void fired(ChannelHandlerContext ctx) {
            timer = null;
            if (!inRequest || !ctx.channel().isActive()) {
                return; // idle (between requests): the next request arms a timer again
            }
            long left = timeoutNanos - (System.nanoTime() - startedAt);
            if (left > 0) {
                arm(ctx, left); // a later request than the one that armed it: its own deadline
                return;
            }
            expire(ctx);
        }

        private void expire(ChannelHandlerContext raw) {
            LOG.debug("closing {}: a request did not arrive whole within {} ms", raw.channel().remoteAddress(),
                    TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
            inRequest = false;
            // written below the HTTP codec: the request is incomplete, so no HTTP response object can be sent
            raw.writeAndFlush(Unpooled.wrappedBuffer(TIMEOUT)).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
