package dev.deputy.broker;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HashMap;
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
 * <p>Only when the broker runs from one jar (the class path is that jar: {@code scripts/run}, {@code scripts/bench} and
 * the systemd unit start it with {@code java -jar}; the image's class path is its layers' many small jars, which
 * Micronaut scans as before); otherwise, or when Micronaut's internals are not what this expects (another version), nothing is
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
        // A zip file system lists a directory's children newest first: in the reverse order of the central directory
        // entries that made them, an entry of its own for a directory that has one, else its first entry inside.
        Map<String, Integer> servicePos = new HashMap<>();
        Map<String, Map<String, Integer>> implPos = new HashMap<>();
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            Enumeration<JarEntry> entries = file.entries();
            for (int i = 0; entries.hasMoreElements(); i++) {
                String name = entries.nextElement().getName();
                if (!name.startsWith(PREFIX)) {
                    continue;
                }
                String rest = name.substring(PREFIX.length());
                int slash = rest.indexOf('/');
                if (slash <= 0) {
                    continue;
                }
                String service = rest.substring(0, slash);
                String impl = rest.substring(slash + 1);
                if (impl.isEmpty()) {
                    servicePos.put(service, i); // the service's own directory entry
                    continue;
                }
                servicePos.putIfAbsent(service, i);
                // Micronaut's walk stops at depth 2 and lists files and directories alike
                int deeper = impl.indexOf('/');
                boolean own = deeper < 0 || deeper == impl.length() - 1;
                Map<String, Integer> impls = implPos.computeIfAbsent(service, k -> new HashMap<>());
                String implName = deeper < 0 ? impl : impl.substring(0, deeper);
                if (own) {
                    impls.put(implName, i);
                } else {
                    impls.putIfAbsent(implName, i);
                }
            }
        }
        Map<String, Set<String>> services = new LinkedHashMap<>();
        for (String service : newestFirst(servicePos)) {
            services.put(service, new LinkedHashSet<>(newestFirst(implPos.getOrDefault(service, Map.of()))));
        }
        return services;
    }

    private static List<String> newestFirst(Map<String, Integer> positions) {
        List<String> names = new ArrayList<>(positions.keySet());
        names.sort(Comparator.comparing(positions::get, Comparator.reverseOrder()));
        return names;
    }

    /** Puts {@code services} in Micronaut's cache of its {@code META-INF/micronaut/} walk for {@code loader}. */
    static boolean install(ClassLoader loader, Map<String, Set<String>> services) {
        try {
            ClassLoader micronaut = MicronautServiceIndex.class.getClassLoader();
            Class<?> utils = Class.forName(UTILS, false, micronaut);
            Class<?> entry = Class.forName(UTILS + "$CacheEntry", false, micronaut);
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
