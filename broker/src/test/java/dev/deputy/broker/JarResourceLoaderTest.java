package dev.deputy.broker;

import io.micronaut.core.io.scan.DefaultClassPathResourceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The environment's resource loader answers every path of a jar as Micronaut's own loader does. */
class JarResourceLoaderTest {
    @TempDir
    Path tmp;

    @Test
    void sameAnswersAsMicronautsLoader() throws Exception {
        Path jar = tmp.resolve("res.jar");
        try (OutputStream f = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(f)) {
            for (String[] e : List.of(new String[] {"application.yml", "micronaut:\n  application:\n    name: x\n"},
                    new String[] {"static/", null}, new String[] {"static/app.css", "body{}"},
                    new String[] {"nested/dir/", null}, new String[] {"nested/dir/file.txt", "deep"})) {
                out.putNextEntry(new JarEntry(e[0]));
                if (e[1] != null) {
                    out.write(e[1].getBytes(StandardCharsets.UTF_8));
                }
                out.closeEntry();
            }
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
            JarResourceLoader ours = new JarResourceLoader(loader);
            DefaultClassPathResourceLoader micronauts = new DefaultClassPathResourceLoader(loader);
            int read = 0;
            for (String path : List.of("application.yml", "classpath:application.yml", "/application.yml",
                    "static/app.css", "static", "static/", "nested/dir", "nested/dir/file.txt", "missing.yml",
                    "nested/dir/../../application.yml", "classpath:static/app.css", "")) {
                Optional<String> a = text(ours.getResourceAsStream(path));
                Optional<String> b = text(micronauts.getResourceAsStream(path));
                assertEquals(b, a, path);
                read += a.isPresent() ? 1 : 0;
            }
            assertTrue(read >= 5, "files were read: " + read);
        }
    }

    private static Optional<String> text(Optional<InputStream> in) throws Exception {
        if (in.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream s = in.get()) {
            return Optional.of(new String(s.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
