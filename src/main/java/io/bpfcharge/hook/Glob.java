package io.bpfcharge.hook;

import java.util.regex.Pattern;

/**
 * A shell-style pattern for container ids, names and annotation values: {@code *} matches any
 * run of characters, {@code ?} one character, everything else itself. The whole value must match.
 */
record Glob(String text, Pattern pattern) {
    static Glob of(String text) {
        StringBuilder re = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        for (char c : text.toCharArray()) {
            if (c == '*' || c == '?') {
                if (!literal.isEmpty()) re.append(Pattern.quote(literal.toString()));
                literal.setLength(0);
                re.append(c == '*' ? ".*" : ".");
            } else {
                literal.append(c);
            }
        }
        if (!literal.isEmpty()) re.append(Pattern.quote(literal.toString()));
        return new Glob(text, Pattern.compile(re.toString(), Pattern.DOTALL));
    }

    boolean matches(String value) {
        return value != null && pattern.matcher(value).matches();
    }

    @Override
    public String toString() { return text; }
}
