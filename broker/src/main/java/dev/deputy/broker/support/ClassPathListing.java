package dev.deputy.broker.support;

import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The files under a directory of the class path — Micronaut's service lists ({@code META-INF/micronaut/}) and the
 * schema migrations ({@code db/migration/}) — listed from each jar's central directory (the one the JVM's class
 * loader parsed already) in one pass over the jar's names for both directories, and from directories on disk.
 *
 * <p>Both used to be listed by walking the jar: Micronaut through a zip file system that indexes every entry, Flyway
 * by iterating them; the broker's shaded jar holds ~43,000 (docs/benchmarks.md, "Session 11").
 */
public final class ClassPathListing {
    /** The directories one pass over a jar collects. */
    static final List<String> DIRECTORIES = List.of("META-INF/micronaut/", "db/migration/");

    private static final Map<String, Map<String, List<String>>> JARS = new ConcurrentHashMap<>();

    private ClassPathListing() {
    }

    /**
     * Entry names (relative to {@code dir}, which ends with {@code /}; files only, any depth) under {@code dir} in
     * every class path root that holds it, root by root in class path order.
     */
    public static List<List<String>> files(ClassLoader loader, String dir) throws IOException {
        if (!DIRECTORIES.contains(dir)) {
            throw new IllegalArgumentException("not a listed directory: " + dir);
        }
        List<List<String>> roots = new ArrayList<>();
        Enumeration<URL> urls = loader.getResources(dir.substring(0, dir.length() - 1));
        while (urls.hasMoreElements()) {
            roots.add(files(urls.nextElement(), dir));
        }
        return roots;
    }

    /** The files under {@code dir} of one class path root, given the URL of {@code dir} in it. */
    static List<String> files(URL root, String dir) throws IOException {
        switch (root.getProtocol()) {
            case "jar" -> {
                var connection = (JarURLConnection) root.openConnection();
                connection.setUseCaches(false);
                try (JarFile jar = connection.getJarFile()) {
                    return JARS.computeIfAbsent(jar.getName(), k -> listJar(jar)).get(dir);
                }
            }
            case "file" -> {
                Path base = directory(root);
                try (Stream<Path> walk = Files.walk(base)) {
                    return walk.filter(Files::isRegularFile)
                            .map(p -> base.relativize(p).toString().replace(base.getFileSystem().getSeparator(), "/"))
                            .sorted().toList();
                }
            }
            default -> throw new IOException("class path root not listed: " + root);
        }
    }

    /** The directory a {@code file:} class path URL names. */
    static Path directory(URL root) throws IOException {
        try {
            return Path.of(root.toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IOException("not a directory URL: " + root, e);
        }
    }

    private static Map<String, List<String>> listJar(JarFile jar) {
        Map<String, List<String>> found = new HashMap<>();
        DIRECTORIES.forEach(d -> found.put(d, new ArrayList<>()));
        for (var entries = jar.entries(); entries.hasMoreElements(); ) {
            JarEntry e = entries.nextElement();
            String name = e.getName();
            if (e.isDirectory()) {
                continue;
            }
            for (String d : DIRECTORIES) {
                if (name.startsWith(d)) {
                    found.get(d).add(name.substring(d.length()));
                }
            }
        }
        found.replaceAll((d, names) -> List.copyOf(names));
        return found;
    }
}
