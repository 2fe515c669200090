package io.sourcepostgres.pgoutput;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One pgoutput message as the server returned it, with the {@code lsn} and {@code xid} columns that
 * {@code pg_logical_slot_peek_binary_changes} printed next to it: the server's own rendering of
 * positions and xids, against which decoded fields are checked.
 *
 * <p>Fixture files ({@code src/test/resources/pgoutput/*.hex}) hold one message per line as
 * {@code <lsn> <xid> <hex bytes>} after a {@code #} comment header that says how they were made.
 */
public record CapturedMessage(long lsn, long xid, byte[] bytes) {
    private static final HexFormat HEX = HexFormat.of();

    /** A committed fixture, from the test classpath. */
    public static List<CapturedMessage> loadFixture(String name) {
        String resource = "/pgoutput/" + name + ".hex";
        try (InputStream in = CapturedMessage.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing fixture " + resource
                        + "; regenerate with -Dpgoutput.fixtures.write=true (see PgOutputFixturesIT)");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fixture file as it is in the source tree (the classpath copy may predate a regeneration). */
    static List<CapturedMessage> loadFixtureFrom(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<CapturedMessage> parse(String text) {
        List<CapturedMessage> messages = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.trim().split(" ");
            messages.add(new CapturedMessage(Lsn.parse(parts[0]), Long.parseLong(parts[1]), HEX.parseHex(parts[2])));
        }
        return messages;
    }

    static void writeFixture(Path file, List<String> header, List<CapturedMessage> messages) {
        StringBuilder out = new StringBuilder();
        for (String line : header) {
            out.append(line.isEmpty() ? "#" : "# " + line).append('\n');
        }
        for (CapturedMessage m : messages) {
            out.append(Lsn.format(m.lsn)).append(' ').append(m.xid).append(' ').append(HEX.formatHex(m.bytes)).append('\n');
        }
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes a captured sequence in order with one decoder, as a replication stream would. */
    static List<PgOutputMessage> decodeAll(List<CapturedMessage> messages) {
        PgOutputDecoder decoder = new PgOutputDecoder();
        List<PgOutputMessage> decoded = new ArrayList<>(messages.size());
        for (CapturedMessage m : messages) {
            decoded.add(decoder.decode(m.bytes, 0, m.bytes.length));
        }
        return decoded;
    }
}
