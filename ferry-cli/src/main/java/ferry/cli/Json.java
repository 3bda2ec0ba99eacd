package ferry.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import ferry.dataset.Manifest;
import ferry.dataset.ManifestCodec;
import java.io.PrintWriter;

/** Machine-readable output for {@code --json}. */
final class Json {
    private static final ObjectMapper MAPPER =
            JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private Json() {}

    static void print(PrintWriter out, Object value) {
        try {
            out.println(MAPPER.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON output", e);
        }
    }

    private static final ObjectMapper COMPACT = JsonMapper.builder().build();

    /** One value on one line, for JSON Lines output. */
    static String compact(Object value) {
        try {
            return COMPACT.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON output", e);
        }
    }

    static void print(PrintWriter out, Manifest manifest) {
        out.println(new String(ManifestCodec.toJson(manifest), java.nio.charset.StandardCharsets.UTF_8));
    }
}
