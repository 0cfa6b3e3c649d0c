package io.bpfcharge.cli;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.PrintWriter;

/**
 * How one kind of result is shown: a table or lines for people, and the documented JSON
 * (docs/json.md) for scripts, side by side so that the two cannot drift apart.
 */
interface Printer<T> {
    void plain(PrintWriter out, T result);

    void json(JsonGenerator g, T result) throws IOException;

    /** Prints in the form the command was asked for. */
    default void print(PrintWriter out, boolean json, T result) {
        if (json) Json.write(out, g -> json(g, result));
        else plain(out, result);
        out.flush();
    }
}
