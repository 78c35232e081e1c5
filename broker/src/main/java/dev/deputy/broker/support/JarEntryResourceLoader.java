package dev.deputy.broker.support;

import io.micronaut.core.io.scan.DefaultClassPathResourceLoader;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.util.Optional;

/**
 * The class path loader Micronaut's environment reads its configuration files through ({@code application.yml} and
 * its siblings), reading a file from the jar through the JVM's own jar handling.
 *
 * <p>Micronaut's loader opens and closes a zip file system over the whole jar for every resource it finds in one —
 * indexing all ~43,000 entries of the broker's shaded jar to read one small file (docs/benchmarks.md, "Session 11").
 * Here a plain relative path found in a jar is read from the jar's entry (a directory reads as absent, as there);
 * anything else — a directory on disk, a path with {@code ..}, {@code /} or a prefix — goes to Micronaut's loader
 * unchanged. {@code JarEntryResourceLoaderTest} holds both equal for every kind of path.
 */
public final class JarEntryResourceLoader extends DefaultClassPathResourceLoader {
    public JarEntryResourceLoader(ClassLoader classLoader) {
        super(classLoader);
    }

    @Override
    public Optional<InputStream> getResourceAsStream(String path) {
        if (!plain(path)) {
            return super.getResourceAsStream(path);
        }
        URL url = getClassLoader().getResource(path);
        if (url == null) {
            return Optional.empty();
        }
        if (!"jar".equals(url.getProtocol())) {
            return super.getResourceAsStream(path);
        }
        try {
            var connection = (JarURLConnection) url.openConnection();
            connection.setUseCaches(false);
            if (connection.getJarEntry() == null || connection.getJarEntry().isDirectory()) {
                connection.getJarFile().close();
                return Optional.empty();
            }
            // the stream closes the jar file it came from (a handle on the class loader's shared central directory)
            return Optional.of(connection.getInputStream());
        } catch (IOException | ClassCastException e) {
            return super.getResourceAsStream(path);
        }
    }

    private static boolean plain(String path) {
        return !path.isEmpty() && !path.startsWith("/") && !path.contains("..") && !path.contains("\\")
                && !path.contains(":") && !path.endsWith("/");
    }
}
