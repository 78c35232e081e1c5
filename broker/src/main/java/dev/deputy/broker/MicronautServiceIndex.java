package dev.deputy.broker;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Start-up: Micronaut's list of its own services ({@code META-INF/micronaut/<service>/<class>}: the ~840 bean
 * definitions, introspections, bean configurations), read from the shaded jar's central directory instead of through
 * a zip file system. Micronaut walks {@code META-INF/micronaut/} through {@code FileSystems.newFileSystem} on the jar,
 * which indexes every one of its ~43,000 entries again (about a tenth of a start's samples); the JVM's own
 * {@link JarFile} has that directory parsed already. The entries are listed in the order Micronaut's walk gives them
 * (the reverse of the central directory's) and handed to Micronaut's cache of that walk, so everything after it
 * (which services load, in which order, with which conditions) is Micronaut's own code.
 *
 * <p>Only when the broker runs from one jar (the class path is that jar, as {@code scripts/run}, the image and the
 * unit start it); otherwise, or when Micronaut's internals are not what this expects (another version), nothing is
 * done and Micronaut scans as before. {@code MicronautServiceIndexTest} holds the index equal to Micronaut's scan.
 */
final class MicronautServiceIndex {
    static final String PREFIX = "META-INF/micronaut/";
    private static final String UTILS = "io.micronaut.core.io.service.MicronautMetaServiceLoaderUtils";

    private MicronautServiceIndex() {
    }

    /** Installs the index when the class path is the one jar this class was loaded from; true when it did. */
    static boolean installForSingleJar() {
        try {
            var source = MicronautServiceIndex.class.getProtectionDomain().getCodeSource();
            if (source == null || source.getLocation() == null) {
                return false;
            }
            Path jar = Path.of(source.getLocation().toURI());
            String cp = System.getProperty("java.class.path", "");
            if (!Files.isRegularFile(jar) || cp.isEmpty() || !Path.of(cp).toAbsolutePath().equals(jar.toAbsolutePath())) {
                return false;
            }
            return install(MicronautServiceIndex.class.getClassLoader(), read(jar));
        } catch (IOException | RuntimeException | java.net.URISyntaxException e) {
            return false; // Micronaut scans the jar itself, as without this
        }
    }

    /** Micronaut's services of a jar: service type name to implementation class names, in Micronaut's order. */
    static Map<String, Set<String>> read(Path jar) throws IOException {
        List<String[]> found = new ArrayList<>();
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                String name = e.getName();
                if (!name.startsWith(PREFIX)) {
                    continue;
                }
                // <service>/<implementation>: Micronaut's walk stops at depth 2 and lists files and directories alike
                String rest = name.substring(PREFIX.length());
                int slash = rest.indexOf('/');
                if (slash <= 0) {
                    continue;
                }
                String impl = rest.substring(slash + 1);
                int deeper = impl.indexOf('/');
                if (deeper >= 0) {
                    impl = impl.substring(0, deeper);
                }
                if (impl.isEmpty()) {
                    continue; // the service's own directory
                }
                found.add(new String[] {rest.substring(0, slash), impl});
            }
        }
        // a zip file system lists a directory's children newest first: the reverse of the central directory
        Map<String, Set<String>> services = new LinkedHashMap<>();
        for (int i = found.size() - 1; i >= 0; i--) {
            services.computeIfAbsent(found.get(i)[0], k -> new LinkedHashSet<>()).add(found.get(i)[1]);
        }
        return services;
    }

    /** Puts {@code services} in Micronaut's cache of its {@code META-INF/micronaut/} walk for {@code loader}. */
    static boolean install(ClassLoader loader, Map<String, Set<String>> services) {
        try {
            Class<?> utils = Class.forName(UTILS, false, loader);
            Class<?> entry = Class.forName(UTILS + "$CacheEntry", false, loader);
            Constructor<?> make = entry.getDeclaredConstructor(ClassLoader.class, Map.class);
            Field cache = utils.getDeclaredField("cacheEntry");
            if (!java.lang.reflect.Modifier.isStatic(cache.getModifiers()) || cache.getType() != entry) {
                return false;
            }
            make.setAccessible(true);
            cache.setAccessible(true);
            cache.set(null, make.newInstance(loader, services));
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
    }
}
