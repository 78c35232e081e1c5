package dev.deputy.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** {@code -o table|json|yaml}: one place that renders what a command answers. */
public final class Output {
    public enum Format { table, json, yaml }

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));

    private final Format format;
    private final PrintStream out;

    Output(Format format, PrintStream out) {
        this.format = format;
        this.out = out;
    }

    public Format format() {
        return format;
    }

    public boolean structured() {
        return format != Format.table;
    }

    /** Prints {@code data} as JSON or YAML, or runs {@code table} for the human form. */
    public void emit(Object data, Consumer<PrintStream> table) {
        try {
            switch (format) {
                case json -> out.println(JSON.writeValueAsString(data));
                case yaml -> out.print(YAML.writeValueAsString(data));
                case table -> table.accept(out);
            }
        } catch (IOException e) {
            throw CliException.failed("cannot render the answer: " + e.getMessage());
        }
        out.flush();
    }

    /** An object as aligned {@code key  value} lines (the table form of a single object). */
    public void object(Object data, String headline) {
        emit(data, p -> {
            if (headline != null) {
                p.println(headline);
            }
            if (data instanceof Map<?, ?> m) {
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    p.printf("%-22s %s%n", String.valueOf(e.getKey()).replace('_', ' '), cell(e.getValue()));
                }
            }
        });
    }

    /** Rows under a header, columns padded to their widest cell. */
    public static void table(PrintStream p, List<String[]> rows) {
        int[] w = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                sb.append(i == r.length - 1 ? r[i] : String.format("%-" + (w[i] + 2) + "s", r[i]));
            }
            p.println(sb.toString().stripTrailing());
        }
    }

    /** A list of maps as a table of the given columns (header = column names upper-cased). */
    public static void columns(PrintStream p, List<Map<String, Object>> items, String empty, String... cols) {
        if (items.isEmpty()) {
            p.println(empty);
            return;
        }
        List<String[]> rows = new ArrayList<>();
        String[] head = new String[cols.length];
        for (int i = 0; i < cols.length; i++) {
            head[i] = cols[i].replace('_', ' ').toUpperCase();
        }
        rows.add(head);
        for (Map<String, Object> item : items) {
            String[] r = new String[cols.length];
            for (int i = 0; i < cols.length; i++) {
                r[i] = cell(item.get(cols[i]));
            }
            rows.add(r);
        }
        table(p, rows);
    }

    static String cell(Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof List<?> l) {
            return String.join(" ", l.stream().map(String::valueOf).toList());
        }
        if (v instanceof Boolean b) {
            return b ? "yes" : "no";
        }
        return String.valueOf(v);
    }
}
