package dev.deputy.broker.console;

import dev.deputy.broker.support.FilterPaths;
import io.micronaut.http.filter.FilterPatternStyle;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.annotation.Filter;
import io.micronaut.views.ViewsFilter;
import io.micronaut.views.ViewsModelDecorator;
import io.micronaut.views.ViewsRendererLocator;
import io.micronaut.views.ViewsResolver;
import io.micronaut.views.turbo.TurboFrameRenderer;
import jakarta.inject.Inject;

/**
 * micronaut-views' filter, on the console only. Its stock pattern ({@code /**}) put a reactive around-filter in front
 * of every protocol endpoint (token, introspection, JWKS...) to look for a {@code ModelAndView} body that only
 * console controllers return (issue 14: measurable CPU per token request). The login, consent and account pages
 * render through {@link PageSupport} and need no filter. A controller outside {@code /console} that returns a
 * {@code ModelAndView} must add its path here.
 */
@Replaces(ViewsFilter.class)
@Requires(beans = ViewsResolver.class)
@Filter(patterns = FilterPaths.CONSOLE, patternStyle = FilterPatternStyle.REGEX)
public class ConsoleViewsFilter extends ViewsFilter {
    @Inject
    public ConsoleViewsFilter(ViewsResolver viewsResolver, ViewsRendererLocator viewsRendererLocator,
                              ViewsModelDecorator viewsModelDecorator, TurboFrameRenderer turboFrameRenderer) {
        super(viewsResolver, viewsRendererLocator, viewsModelDecorator, turboFrameRenderer);
    }
}
