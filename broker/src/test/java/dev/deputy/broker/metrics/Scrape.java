package dev.deputy.broker.metrics;

import io.micronaut.http.server.netty.NettyHttpServer;
import io.micronaut.runtime.server.EmbeddedServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** A Prometheus text-format scrape, parsed into samples (name, labels, value). */
record Scrape(String text, List<Sample> samples) {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Sample(String name, Map<String, String> labels, double value) {
        boolean has(Map<String, String> wanted) {
            return labels.entrySet().containsAll(wanted.entrySet());
        }
    }

    /** The management listener: the port the server bound besides its HTTP (and HTTPS) one. */
    static int managementPort(EmbeddedServer server, Set<Integer> others) {
        Set<Integer> bound = new TreeSet<>(((NettyHttpServer) server).getBoundPorts());
        bound.removeAll(others);
        if (bound.size() != 1) {
            throw new IllegalStateException("expected one management port, bound: " + ((NettyHttpServer) server).getBoundPorts());
        }
        return bound.iterator().next();
    }

    static HttpResponse<String> get(int port, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Scrape of(int port) {
        HttpResponse<String> r = get(port, "/prometheus");
        if (r.statusCode() != 200) {
            throw new IllegalStateException("scrape answered " + r.statusCode() + ": " + r.body());
        }
        return parse(r.body());
    }

    static Scrape parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space;
            String name;
            Map<String, String> labels = new LinkedHashMap<>();
            if (brace >= 0 && brace < line.indexOf(' ')) {
                name = line.substring(0, brace);
                int i = brace + 1;
                while (line.charAt(i) != '}') {
                    int eq = line.indexOf('=', i);
                    String key = line.substring(i, eq);
                    StringBuilder v = new StringBuilder();
                    int j = eq + 2; // after ="
                    while (line.charAt(j) != '"') {
                        char c = line.charAt(j);
                        if (c == '\\') {
                            char n = line.charAt(++j);
                            v.append(n == 'n' ? '\n' : n);
                        } else {
                            v.append(c);
                        }
                        j++;
                    }
                    labels.put(key, v.toString());
                    i = j + 1;
                    if (line.charAt(i) == ',') {
                        i++;
                    }
                }
                space = i + 1;
            } else {
                space = line.indexOf(' ');
                name = line.substring(0, space);
            }
            String rest = line.substring(space).trim().split(" ")[0];
            out.add(new Sample(name, labels, Double.parseDouble(rest)));
        }
        return new Scrape(text, out);
    }

    List<Sample> series(String name, Map<String, String> labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.has(labels)).toList();
    }

    /** The value of the one series with these labels (at least); fails when there is none or several. */
    double value(String name, Map<String, String> labels) {
        List<Sample> s = series(name, labels);
        if (s.size() != 1) {
            throw new AssertionError(name + labels + ": " + s.size() + " series: " + s);
        }
        return s.get(0).value();
    }

    /** The sum over every series of this name with these labels (0 when none). */
    double sum(String name, Map<String, String> labels) {
        return series(name, labels).stream().mapToDouble(Sample::value).sum();
    }

    Set<String> names() {
        return samples.stream().map(Sample::name).collect(Collectors.toCollection(TreeSet::new));
    }
}
