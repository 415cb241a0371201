package io.asyncroutes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the package graph of {@code src/main/java} the one drawn in README "Package layers": no
 * cycle, leaves that import nothing of ours, {@code support} on {@code message} only, nothing below
 * the Spring wiring importing {@code config}, and route classes free of Spring. A plain scan of the
 * sources (imports and fully qualified names, comments and string literals left out) rather than
 * ArchUnit: nothing to add to the build, and the failure names the files behind each edge.
 */
class PackageGraphTest {

    /** The sources to scan; another tree can be checked with {@code -Dgraph.src=...}. */
    private static final Path SOURCES = Path.of(System.getProperty("graph.src", "src/main/java"));
    private static final String BASE = "io.asyncroutes";
    private static final String ROOT = "(root)";
    private static final Pattern REFERENCE = Pattern.compile("\\bio\\.asyncroutes\\.([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    private static final Pattern ROUTE_CLASS = Pattern.compile("\\bextends\\s+(RouteBuilder|EndpointRouteBuilder|RouteConfigurationBuilder)\\b");

    private final Map<String, String> code = sources();
    /** package → package it references → files making the reference. */
    private final Map<String, Map<String, Set<String>>> graph = graph(code);

    @Test
    void packageGraphHasNoCycle() {
        List<String> cycle = findCycle(edges(graph));
        assertThat(cycle).as("a package cycle: %s, via %s", String.join(" -> ", cycle), via(cycle)).isEmpty();
    }

    @Test
    void leavesImportNothingOfOursAndSupportOnlyMessage() {
        assertThat(edges(graph).getOrDefault("message", Set.of())).as("message imports").isEmpty();
        assertThat(edges(graph).getOrDefault("settings", Set.of())).as("settings imports").isEmpty();
        assertThat(edges(graph).getOrDefault("support", Set.of())).as("support imports").isSubsetOf("message");
    }

    @Test
    void onlyTheApplicationImportsTheSpringWiring() {
        graph.forEach((from, targets) -> {
            if (!from.equals("config") && !from.equals(ROOT)) {
                assertThat(targets).as("%s imports the Spring wiring", from).doesNotContainKey("config");
            }
            assertThat(targets).as("%s imports the application class", from).doesNotContainKey(ROOT);
        });
    }

    @Test
    void routeClassesCarryNoSpring() {
        List<String> routeClasses = new ArrayList<>();
        code.forEach((file, text) -> {
            if (ROUTE_CLASS.matcher(text).find()) {
                routeClasses.add(file);
                assertThat(text).as("%s is a route class: Karaf and camel-main run it without Spring", file)
                        .doesNotContain("org.springframework");
            }
        });
        assertThat(routeClasses).as("route classes found").hasSizeGreaterThan(5);
    }

    @Test
    void theCycleFinderFindsACycle() {
        // guards the check above against a finder that never reports anything
        Map<String, Set<String>> knot = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
        assertThat(findCycle(knot)).containsExactly("a", "b", "c", "a");
        assertThat(findCycle(Map.of("a", Set.of("b"), "b", Set.of()))).isEmpty();
    }

    /** Every main source file: its path → its code with comments and literals blanked out. */
    private static Map<String, String> sources() {
        Map<String, String> code = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            files.filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                try {
                    code.put(SOURCES.relativize(f).toString(), codeOnly(Files.readString(f)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(code).as("sources under %s", SOURCES.toAbsolutePath()).isNotEmpty();
        return code;
    }

    private static Map<String, Map<String, Set<String>>> graph(Map<String, String> code) {
        Map<String, Map<String, Set<String>>> graph = new TreeMap<>();
        code.forEach((file, text) -> {
            Matcher pkg = PACKAGE.matcher(text);
            boolean declared = pkg.find();
            String from = declared ? feature(pkg.group(1)) : ROOT;
            graph.computeIfAbsent(from, k -> new TreeMap<>());
            Matcher ref = REFERENCE.matcher(text.substring(declared ? pkg.end() : 0));
            while (ref.find()) {
                String first = ref.group(1);
                String to = Character.isUpperCase(first.charAt(0)) ? ROOT : first;
                if (!to.equals(from)) {
                    graph.get(from).computeIfAbsent(to, k -> new TreeSet<>()).add(file);
                }
            }
        });
        return graph;
    }

    /** {@code io.asyncroutes.fetch.x} → {@code fetch}; the base package itself → {@value #ROOT}. */
    private static String feature(String pkg) {
        if (pkg.equals(BASE)) {
            return ROOT;
        }
        String rest = pkg.substring(BASE.length() + 1);
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    private static Map<String, Set<String>> edges(Map<String, Map<String, Set<String>>> graph) {
        Map<String, Set<String>> edges = new TreeMap<>();
        graph.forEach((from, targets) -> edges.put(from, new TreeSet<>(targets.keySet())));
        return edges;
    }

    private String via(List<String> cycle) {
        List<String> via = new ArrayList<>();
        for (int i = 0; i + 1 < cycle.size(); i++) {
            via.add(cycle.get(i) + " -> " + cycle.get(i + 1) + " in " + graph.get(cycle.get(i)).get(cycle.get(i + 1)));
        }
        return String.join("; ", via);
    }

    /** The first cycle a depth-first walk meets, as a path that ends where it began; empty if none. */
    static List<String> findCycle(Map<String, Set<String>> edges) {
        Map<String, Integer> state = new TreeMap<>(); // 1 on the current path, 2 done
        for (String start : new TreeSet<>(edges.keySet())) {
            List<String> path = new ArrayList<>();
            List<String> cycle = walk(start, edges, state, path);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        return List.of();
    }

    private static List<String> walk(String node, Map<String, Set<String>> edges, Map<String, Integer> state, List<String> path) {
        Integer s = state.get(node);
        if (s != null && s == 2) {
            return List.of();
        }
        if (s != null && s == 1) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(node), path.size()));
            cycle.add(node);
            return cycle;
        }
        state.put(node, 1);
        path.add(node);
        for (String next : new TreeSet<>(edges.getOrDefault(node, Set.of()))) {
            List<String> cycle = walk(next, edges, state, path);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        path.remove(path.size() - 1);
        state.put(node, 2);
        return List.of();
    }

    /**
     * The code without comments, string, character and text-block literals (each replaced by a
     * space), so a logger name like {@code "io.asyncroutes.retry"} or a Javadoc mention is no edge.
     */
    static String codeOnly(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        int n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
                while (i < n && source.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
                int end = source.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                out.append(' ');
            } else if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                i = end < 0 ? n : end + 3;
                out.append(' ');
            } else if (c == '"' || c == '\'') {
                i++;
                while (i < n && source.charAt(i) != c) {
                    i += source.charAt(i) == '\\' ? 2 : 1;
                }
                i++;
                out.append(' ');
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
