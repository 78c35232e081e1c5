package dev.deputy.policy;

/**
 * One precompiled condition of a rule: the input it reads (named as in explanations: {@code tool},
 * {@code subject.groups}, {@code arguments.amount}, …), what it expects (as written) and the test.
 */
abstract class Check {
    final String input;
    final String expected;

    Check(String input, String expected) {
        this.input = input;
        this.expected = expected;
    }

    /** The input value this check looks at (for explanations and the audit entry). */
    abstract Object read(ToolInput in);

    /** The test on that value. */
    abstract Outcome test(Object value, ToolInput in);
}
