package io.bpfcharge.cli;

import io.bpfcharge.Mappers;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The CLI's JSON writer: every --json document is streamed through one generator, pretty-printed;
 * field names are snake_case and stable (docs/json.md). Streaming, not a tree: 10,000 maps built
 * as a tree first took longer than the scan that found them.
 */
final class Json {
    private Json() {}

    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    static void write(PrintWriter out, Body body) {
        try (JsonGenerator g = Mappers.JSON.getFactory().createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET); // out is stdout: more may follow
            g.useDefaultPrettyPrinter();
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.println();
        out.flush();
    }

    static void optional(JsonGenerator g, String field, OptionalLong v) throws IOException {
        if (v.isPresent()) g.writeNumberField(field, v.getAsLong());
        else g.writeNullField(field);
    }

    static void string(JsonGenerator g, String field, String v) throws IOException {
        if (v == null) g.writeNullField(field);
        else g.writeStringField(field, v);
    }

    /** An array of {number, string} objects, the shape of outer slots and program holders. */
    static <T> void pairs(JsonGenerator g, String field, List<T> items, String numName, ToLongFunction<T> num,
                          String strName, Function<T, String> str) throws IOException {
        g.writeArrayFieldStart(field);
        for (T item : items) {
            g.writeStartObject();
            g.writeNumberField(numName, num.applyAsLong(item));
            g.writeStringField(strName, str.apply(item));
            g.writeEndObject();
        }
        g.writeEndArray();
    }
}
