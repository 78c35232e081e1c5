package dev.deputy.broker.agent;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The one RFC 8707 resource resolver: every rule, with the reason each refusal is audited under. */
class ResourceIndicatorsTest {
    static final Resource FILES = new Resource("t", "files", "https://files.example.com/mcp", "Files",
            List.of("files:read"), true, "api");
    static final Resource MAIL = new Resource("t", "mail.v2", "https://mail.example.com/mcp/", "Mail",
            List.of("mail:send"), false, "api");
    static final Resource UNICODE = new Resource("t", "büro", "https://büro.example/mcp/ä", "Büro", List.of(), false, "api");
    static final List<Resource> ALL = List.of(FILES, MAIL, UNICODE);

    static String refused(List<Resource> all, List<String> resources, List<String> audiences) {
        return assertThrows(ResourceIndicators.Refused.class, () -> ResourceIndicators.resolve(all, resources, audiences))
                .reason();
    }

    @Test
    void resolvesByUriIgnoringOneTrailingSlash() {
        assertEquals(FILES, ResourceIndicators.resolve(ALL, List.of("https://files.example.com/mcp/"), null));
        assertEquals(MAIL, ResourceIndicators.resolve(ALL, List.of("https://mail.example.com/mcp"), null));
        assertEquals(UNICODE, ResourceIndicators.resolve(ALL, List.of("https://büro.example/mcp/ä"), null));
    }

    @Test
    void noneNamedIsTheDefaultOrRefused() {
        assertEquals(FILES, ResourceIndicators.resolve(ALL, List.of(), null));
        assertEquals(FILES, ResourceIndicators.resolve(ALL, null, List.of()));
        assertEquals("no_default_resource", refused(List.of(MAIL), List.of(), null));
    }

    @Test
    void anAudienceMayNameTheResourceIdButAResourceParameterMayNot() {
        assertEquals(MAIL, ResourceIndicators.resolve(ALL, null, List.of("mail.v2")));
        assertEquals(FILES, ResourceIndicators.resolve(ALL, null, List.of("https://files.example.com/mcp")));
        assertEquals("invalid_resource", refused(ALL, List.of("mail.v2"), null));
    }

    @Test
    void malformedUnknownOrSeveralAreRefused() {
        assertEquals("invalid_resource", refused(ALL, List.of("https://files.example.com/mcp#frag"), null));
        assertEquals("invalid_resource", refused(ALL, List.of("/relative/mcp"), null));
        assertEquals("invalid_resource", refused(ALL, List.of("https://exa mple.com/ spaced"), null));
        assertEquals("unknown_resource", refused(ALL, List.of("https://files.example.com/mcp//"), null));
        assertEquals("unknown_resource", refused(ALL, List.of("https://FILES.example.com/mcp"), null));
        assertEquals("multiple_resources", refused(ALL, List.of(FILES.uri(), MAIL.uri()), null));
        assertEquals("multiple_resources", refused(ALL, List.of(FILES.uri()), List.of("files")));
    }

    @Test
    void aBoundGrantAcceptsOnlyItsOwnResource() {
        ResourceIndicators.requireBound(null, FILES.uri());
        ResourceIndicators.requireBound(List.of(), FILES.uri());
        ResourceIndicators.requireBound(List.of("https://files.example.com/mcp/"), FILES.uri());
        assertEquals("resource_mismatch", assertThrows(ResourceIndicators.Refused.class,
                () -> ResourceIndicators.requireBound(List.of(MAIL.uri()), FILES.uri())).reason());
        assertEquals("resource_mismatch", assertThrows(ResourceIndicators.Refused.class,
                () -> ResourceIndicators.requireBound(List.of(FILES.uri(), FILES.uri()), FILES.uri())).reason());
    }
}
