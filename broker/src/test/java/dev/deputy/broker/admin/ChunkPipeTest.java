package dev.deputy.broker.admin;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ChunkPipeTest {
    @Test
    void everyByteArrivesWhenEachReadRunsOnAThreadThatEndsRightAfter() throws Exception {
        byte[] data = new byte[1_000_003];
        new Random(7).nextBytes(data);
        ChunkPipe pipe = new ChunkPipe(2, 4096);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream out = pipe.out()) {
                for (int i = 0; i < data.length; ) {
                    int n = Math.min(1000, data.length - i);
                    out.write(data, i, n);
                    i += n;
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
        InputStream in = pipe.in();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[3000];
        while (true) {
            // a new virtual thread per read, as the HTTP layer does: PipedInputStream failed here ("Read end dead")
            Thread t = Thread.ofVirtual().unstarted(() -> {
                try {
                    int n = in.read(buf, 0, buf.length);
                    if (n > 0) {
                        got.write(buf, 0, n);
                    } else {
                        throw new EndOfStream();
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            final boolean[] ended = {false};
            t.setUncaughtExceptionHandler((th, e) -> ended[0] = e instanceof EndOfStream);
            t.start();
            t.join();
            if (ended[0]) {
                break;
            }
        }
        writer.get(10, TimeUnit.SECONDS);
        assertArrayEquals(data, got.toByteArray());
        assertEquals(-1, in.read());
    }

    @Test
    void aClosedReaderFailsTheWriterInsteadOfBlockingIt() throws Exception {
        ChunkPipe pipe = new ChunkPipe(1, 16);
        InputStream in = pipe.in();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream out = pipe.out()) {
                for (int i = 0; i < 1_000_000; i++) {
                    out.write(new byte[64]);
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
        assertEquals(16, in.read(new byte[64]));
        in.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> writer.get(5, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, e.getCause().getCause());
        assertThrows(IOException.class, in::read);
    }

    private static final class EndOfStream extends RuntimeException {
    }
}
