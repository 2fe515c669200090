package io.sourcepostgres.postgres.tls;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The little DER (ASN.1) that turning a PKCS#1 or SEC1 key into PKCS#8 needs: read the elements of a
 * SEQUENCE, and write a SEQUENCE, an OCTET STRING or any tagged element. Nothing more.
 */
final class Der {
    static final int INTEGER = 0x02;
    static final int OCTET_STRING = 0x04;
    static final int OBJECT_IDENTIFIER = 0x06;
    static final int SEQUENCE = 0x30;

    /** One element: its tag, its whole encoding, and where its content starts within that encoding. */
    record Element(int tag, byte[] encoded, int contentOffset) {
        byte[] content() {
            byte[] c = new byte[encoded.length - contentOffset];
            System.arraycopy(encoded, contentOffset, c, 0, c.length);
            return c;
        }
    }

    private Der() {}

    /** The elements inside the SEQUENCE that {@code der} holds. */
    static List<Element> sequenceElements(byte[] der) {
        Element outer = read(der, 0);
        if (outer.tag() != SEQUENCE || outer.encoded().length != der.length) {
            throw new IllegalArgumentException("not a DER SEQUENCE");
        }
        List<Element> children = new ArrayList<>();
        byte[] content = outer.content();
        int pos = 0;
        while (pos < content.length) {
            Element e = read(content, pos);
            children.add(e);
            pos += e.encoded().length;
        }
        return children;
    }

    static byte[] tagged(int tag, byte[]... contents) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] c : contents) {
            body.writeBytes(c);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int length = body.size();
        if (length < 0x80) {
            out.write(length);
        } else {
            int bytes = (32 - Integer.numberOfLeadingZeros(length) + 7) / 8;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(length >>> (8 * i));
            }
        }
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    static byte[] sequence(byte[]... elements) {
        return tagged(SEQUENCE, elements);
    }

    private static Element read(byte[] der, int offset) {
        if (offset + 2 > der.length) {
            throw new IllegalArgumentException("truncated DER");
        }
        int tag = der[offset] & 0xff;
        int first = der[offset + 1] & 0xff;
        int headerLength = 2;
        long length;
        if (first < 0x80) {
            length = first;
        } else {
            int bytes = first & 0x7f;
            if (bytes == 0 || bytes > 4 || offset + 2 + bytes > der.length) {
                throw new IllegalArgumentException("bad DER length");
            }
            length = 0;
            for (int i = 0; i < bytes; i++) {
                length = (length << 8) | (der[offset + 2 + i] & 0xff);
            }
            headerLength += bytes;
        }
        if (offset + headerLength + length > der.length) {
            throw new IllegalArgumentException("truncated DER");
        }
        byte[] encoded = new byte[(int) (headerLength + length)];
        System.arraycopy(der, offset, encoded, 0, encoded.length);
        return new Element(tag, encoded, headerLength);
    }
}
