package io.bpfcharge.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Proactive negotiation (RFC 9110 12.5) of the two choices the exporter has: the exposition format
 * (Accept) and gzip (Accept-Encoding), with q-values, so that "q=0" means "not this". A format's q is
 * that of the most specific range naming it (text/plain before text/* before * / *); the format with
 * the higher q wins, then the one named more specifically, then the one named first.
 */
final class Negotiation {
    private Negotiation() {}

    /** What /metrics can be rendered as. */
    enum Format {
        /** Prometheus text format 0.0.4: the default, and what any client that states no preference gets. */
        TEXT("text", "plain"),
        /** OpenMetrics 1.0. */
        OPENMETRICS("application", "openmetrics-text");

        private final String type, subtype;

        Format(String type, String subtype) {
            this.type = type;
            this.subtype = subtype;
        }

        /** How specifically a media range names this format: 2 for type/subtype, 1 for type/*, 0 for * / *, -1 not at all. */
        int specificity(String rangeType, String rangeSubtype) {
            if (rangeType.equals("*")) return 0;
            if (!rangeType.equals(type)) return -1;
            return rangeSubtype.equals("*") ? 1 : rangeSubtype.equals(subtype) ? 2 : -1;
        }
    }

    /** How a format fares against an Accept header: the q of the range that decides, how specific it is, its place. */
    private record Fit(double q, int specificity, int order) {
        static final Fit NONE = new Fit(0, -1, Integer.MAX_VALUE);

        boolean beats(Fit o) {
            if (q != o.q) return q > o.q;
            return specificity != o.specificity ? specificity > o.specificity : order < o.order;
        }
    }

    /** The format for an Accept header (null: none sent). */
    static Format format(String accept) {
        if (accept == null) return Format.TEXT;
        Fit text = Fit.NONE, openMetrics = Fit.NONE;
        List<String> elements = elements(accept);
        for (int i = 0; i < elements.size(); i++) {
            String element = elements.get(i);
            String range = element.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            int slash = range.indexOf('/');
            if (slash <= 0) continue; // not a media range: ignored
            String type = range.substring(0, slash), subtype = range.substring(slash + 1);
            double q = q(element);
            text = closer(text, Format.TEXT.specificity(type, subtype), q, i);
            openMetrics = closer(openMetrics, Format.OPENMETRICS.specificity(type, subtype), q, i);
        }
        // Nothing acceptable (q 0 for both): the default rather than a 406, as Prometheus' client library does.
        return openMetrics.q() > 0 && openMetrics.beats(text) ? Format.OPENMETRICS : Format.TEXT;
    }

    /** The fit of a range that names a format at {@code specificity}, if it is more specific than (or, equally so, more generous than) {@code fit}. */
    private static Fit closer(Fit fit, int specificity, double q, int order) {
        if (specificity < 0 || specificity < fit.specificity() || specificity == fit.specificity() && q <= fit.q()) return fit;
        return new Fit(q, specificity, order);
    }

    /** True when an Accept-Encoding header (null: none sent) takes gzip: "gzip" or "x-gzip", else "*", with q above 0. */
    static boolean gzip(String acceptEncoding) {
        if (acceptEncoding == null) return false;
        Double named = null, any = null;
        for (String element : elements(acceptEncoding)) {
            String coding = element.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            double q = q(element);
            if (coding.equals("gzip") || coding.equals("x-gzip")) named = named == null ? q : Math.max(named, q);
            else if (coding.equals("*")) any = q;
        }
        double q = named != null ? named : any != null ? any : 0;
        return q > 0;
    }

    private static List<String> elements(String header) {
        List<String> out = new ArrayList<>();
        for (String e : header.split(",")) if (!e.isBlank()) out.add(e);
        return out;
    }

    /** The q parameter ("weight", RFC 9110 12.4.2) of a list element: 1 when absent, 0 when malformed. */
    private static double q(String element) {
        String[] params = element.split(";");
        for (int i = 1; i < params.length; i++) {
            String p = params[i].strip();
            if (!p.regionMatches(true, 0, "q=", 0, 2)) continue;
            String value = p.substring(2);
            return value.matches("0(\\.\\d{0,3})?|1(\\.0{0,3})?") ? Double.parseDouble(value) : 0;
        }
        return 1;
    }
}
