package io.bpfcharge.cli;

import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.MapRecord;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Collectors;

/** The orders --sort offers; bytes sort largest first, and ties fall back to the id or the path so that runs agree. */
final class Sort {
    private Sort() {}

    /** `maps --sort`. */
    enum Maps {
        ID(Comparator.comparingInt(MapRecord::id)),
        BYTES(Comparator.comparingLong(MapRecord::bytes).reversed().thenComparingInt(MapRecord::id)),
        NAME(Comparator.comparing((MapRecord m) -> m.info().name()).thenComparingInt(MapRecord::id)),
        /** Maps charged to no memcg last. */
        CGROUP(Comparator.comparing((MapRecord m) -> m.memcg() == null ? null : m.memcg().path(),
                Comparator.nullsLast(Comparator.naturalOrder())).thenComparingInt(MapRecord::id));

        final Comparator<MapRecord> order;

        Maps(Comparator<MapRecord> order) { this.order = order; }
    }

    /** `cgroups --sort`. */
    enum Cgroups {
        BYTES(Comparator.comparingLong(CgroupTotal::bpfBytes).reversed().thenComparing(t -> t.memcg().path())),
        CGROUP(Comparator.comparing(t -> t.memcg().path()));

        final Comparator<CgroupTotal> order;

        Cgroups(Comparator<CgroupTotal> order) { this.order = order; }
    }

    /** Accepts the lower-case names and, on anything else, lists them. */
    abstract static class Converter<E extends Enum<E>> implements ITypeConverter<E> {
        private final Class<E> type;

        Converter(Class<E> type) { this.type = type; }

        @Override
        public E convert(String s) {
            for (E e : type.getEnumConstants()) if (e.name().toLowerCase(Locale.ROOT).equals(s)) return e;
            throw new TypeConversionException("expected one of " + Arrays.stream(type.getEnumConstants())
                    .map(e -> e.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")) + ", not " + s);
        }
    }

    static final class MapsConverter extends Converter<Maps> {
        MapsConverter() { super(Maps.class); }
    }

    static final class CgroupsConverter extends Converter<Cgroups> {
        CgroupsConverter() { super(Cgroups.class); }
    }
}
