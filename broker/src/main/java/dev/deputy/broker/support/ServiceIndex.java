package dev.deputy.broker.support;

import io.micronaut.core.io.service.SoftServiceLoader;
import io.micronaut.core.optim.StaticOptimizations;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Micronaut's service lists — {@code META-INF/micronaut/<service>/<class>} (bean definitions, introspections, bean
 * configurations) and {@code META-INF/services/<service>} — handed to Micronaut through its static-optimization hook
 * ({@link StaticOptimizations.Loader}, the one Micronaut AOT uses), read from the jar's central directory.
 *
 * <p>Why: for every class path entry that holds {@code META-INF/micronaut}, Micronaut opens a zip file system
 * ({@code FileSystems.newFileSystem}) that indexes every entry of the jar before it walks two directory levels; the
 * broker's shaded jar has ~43,000 entries, and that index was the largest single item of a start's main thread
 * (docs/benchmarks.md, "Session 11"). {@link ClassPathListing} lists the names under {@code META-INF/micronaut/} from
 * the central directory the JVM's class loader parsed already: one pass over names in memory.
 *
 * <p>The lists are what Micronaut's own scan finds (same service names, same classes, hidden files skipped in
 * directories only, as there; {@code ServiceIndexTest} compares both on the test class path, which mixes directories
 * and jars, and on awkward layouts). A class that does not load is left out, as Micronaut's scan leaves it out.
 * {@code -Ddeputy.service-index=false} turns this off (Micronaut scans itself).
 */
public final class ServiceIndex implements StaticOptimizations.Loader<SoftServiceLoader.Optimizations> {
    private static final String MICRONAUT = "META-INF/micronaut/";
    private static final String SERVICES = "META-INF/services/";

    @Override
    public SoftServiceLoader.Optimizations load() {
        if (!Boolean.parseBoolean(System.getProperty("deputy.service-index", "true"))) {
            return new SoftServiceLoader.Optimizations(Map.of());
        }
        return new SoftServiceLoader.Optimizations(loaders(ServiceIndex.class.getClassLoader()));
    }

    /** Service name → its loader, for every name; empty (Micronaut scans itself) if the class path cannot be listed. */
    static Map<String, SoftServiceLoader.StaticServiceLoader<?>> loaders(ClassLoader loader) {
        try {
            return new Loaders(loader, micronautServices(loader));
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
    }

    /** Service name → implementation class names under {@code META-INF/micronaut/}, from every class path root. */
    static Map<String, Set<String>> micronautServices(ClassLoader loader) throws IOException {
        Map<String, Set<String>> services = new LinkedHashMap<>();
        Enumeration<URL> roots = loader.getResources(MICRONAUT.substring(0, MICRONAUT.length() - 1));
        while (roots.hasMoreElements()) {
            URL root = roots.nextElement();
            switch (root.getProtocol()) {
                case "jar" -> ClassPathListing.files(root, MICRONAUT).forEach(name -> add(services, name));
                case "file" -> {
                    Path dir = ClassPathListing.directory(root);
                    try (DirectoryStream<Path> types = Files.newDirectoryStream(dir)) {
                        for (Path type : types) {
                            if (!Files.isDirectory(type)) {
                                continue;
                            }
                            try (DirectoryStream<Path> classes = Files.newDirectoryStream(type)) {
                                for (Path c : classes) {
                                    if (!Files.isHidden(c)) {
                                        add(services, type.getFileName() + "/" + c.getFileName());
                                    }
                                }
                            }
                        }
                    }
                }
                default -> throw new IOException("class path root not listed: " + root);
            }
        }
        return services;
    }

    /**
     * {@code <service>/<class>[/...]}: the first two levels, as Micronaut's walk (depth 2) sees them; a directory
     * entry of the service alone adds nothing.
     */
    private static void add(Map<String, Set<String>> services, String path) {
        int slash = path.indexOf('/');
        if (slash <= 0) {
            return;
        }
        int end = path.indexOf('/', slash + 1);
        String className = end < 0 ? path.substring(slash + 1) : path.substring(slash + 1, end);
        if (!className.isEmpty()) {
            services.computeIfAbsent(path.substring(0, slash), k -> new LinkedHashSet<>()).add(className);
        }
    }

    /** Class names listed in {@code META-INF/services/<service>} files, comments and blanks dropped. */
    static Set<String> standardServices(ClassLoader loader, String service) {
        Set<String> names = new LinkedHashSet<>();
        try {
            Enumeration<URL> files = loader.getResources(SERVICES + service);
            while (files.hasMoreElements()) {
                URL url = files.nextElement();
                var connection = url.openConnection();
                connection.setUseCaches(false);
                try (InputStream in = connection.getInputStream();
                     var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                        int hash = line.indexOf('#');
                        String name = (hash >= 0 ? line.substring(0, hash) : line).trim();
                        if (!name.isEmpty()) {
                            names.add(name);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + SERVICES + service, e);
        }
        return names;
    }

    /**
     * Micronaut asks for a service's loader by name; each is made on first request (from the standard list and the
     * Micronaut list), so that a name never looked up costs nothing and a name looked up never triggers the scan.
     */
    private static final class Loaders extends AbstractMap<String, SoftServiceLoader.StaticServiceLoader<?>> {
        private final ClassLoader loader;
        private final Map<String, Set<String>> micronaut;
        private final Map<String, SoftServiceLoader.StaticServiceLoader<?>> made = new ConcurrentHashMap<>();

        Loaders(ClassLoader loader, Map<String, Set<String>> micronaut) {
            this.loader = loader;
            this.micronaut = micronaut;
        }

        @Override
        public SoftServiceLoader.StaticServiceLoader<?> get(Object key) {
            return key instanceof String service ? made.computeIfAbsent(service, this::make) : null;
        }

        @Override
        public boolean containsKey(Object key) {
            return key instanceof String;
        }

        @Override
        public Set<Entry<String, SoftServiceLoader.StaticServiceLoader<?>>> entrySet() {
            return made.entrySet();
        }

        private SoftServiceLoader.StaticServiceLoader<?> make(String service) {
            List<String> names = new ArrayList<>(standardServices(loader, service));
            for (String n : micronaut.getOrDefault(service, Set.of())) {
                if (!names.contains(n)) {
                    names.add(n);
                }
            }
            return new Listed(loader, List.copyOf(names));
        }
    }

    /**
     * One service's classes. As in Micronaut's scan, a class that is missing or does not link is skipped, and so is
     * one whose no-argument constructor cannot be found, reached or run for a missing class.
     */
    private record Listed(ClassLoader loader, List<String> names) implements SoftServiceLoader.StaticServiceLoader<Object> {
        private static final MethodType NO_ARGS = MethodType.methodType(void.class);

        @Override
        public Stream<SoftServiceLoader.StaticDefinition<Object>> findAll(Predicate<String> predicate) {
            List<SoftServiceLoader.StaticDefinition<Object>> found = new ArrayList<>(names.size());
            for (String name : names) {
                Class<?> type = predicate.test(name) ? type(name) : null;
                if (type != null) {
                    found.add(SoftServiceLoader.StaticDefinition.of(name, () -> create(type)));
                }
            }
            return found.stream();
        }

        @Override
        public List<Object> load(Predicate<String> condition, Predicate<Object> predicate) {
            List<Object> loaded = new ArrayList<>(names.size());
            for (String name : names) {
                Class<?> type = condition.test(name) ? type(name) : null;
                Object service = type == null ? null : create(type);
                if (service != null && (predicate == null || predicate.test(service))) {
                    loaded.add(service);
                }
            }
            return loaded;
        }

        private Class<?> type(String name) {
            try {
                return Class.forName(name, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                return null;
            }
        }

        private static Object create(Class<?> type) {
            try {
                return MethodHandles.publicLookup().findConstructor(type, NO_ARGS).invoke();
            } catch (NoClassDefFoundError | NoSuchMethodException | IllegalAccessException e) {
                return null;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException("cannot create service " + type.getName(), e);
            }
        }
    }
}
