package io.sourcepostgres.values;

import java.util.List;

/**
 * A PostgreSQL data type as the catalog describes it ({@code pg_type}), resolved far enough to choose
 * its JSON Schema and its value encoder: arrays know their element type, domains their base type, enums
 * their labels. Column-specific modifiers (numeric precision, varchar length) travel separately as typmod.
 *
 * @param oid the type's oid
 * @param namespace the schema the type lives in (e.g. {@code pg_catalog}, {@code public})
 * @param name the type's name ({@code typname}, e.g. {@code int4}, {@code _text}, {@code citext})
 * @param typtype {@code b} base, {@code c} composite, {@code d} domain, {@code e} enum, {@code p} pseudo,
 *     {@code r} range, {@code m} multirange
 * @param category {@code typcategory}, e.g. {@code A} array, {@code N} numeric, {@code S} string
 * @param element for an array type, its element type; otherwise null
 * @param base for a domain, the type it is defined over (itself possibly a domain); otherwise null
 * @param enumLabels for an enum, its labels in sort order; otherwise empty
 * @param domainTypmod for a domain, the typmod it applies to its base type ({@code pg_type.typtypmod}, e.g.
 *     the length of {@code CREATE DOMAIN code AS varchar(8)}); -1 otherwise. A column of a domain type has
 *     no typmod of its own ({@code atttypmod = -1}), so this is where a domain's precision or length lives.
 */
public record PgType(
        long oid,
        String namespace,
        String name,
        char typtype,
        char category,
        PgType element,
        PgType base,
        List<String> enumLabels,
        int domainTypmod) {

    public PgType {
        enumLabels = enumLabels == null ? List.of() : List.copyOf(enumLabels);
    }

    /** A type without a domain typmod: every type but a domain over a type with a modifier. */
    public PgType(long oid, String namespace, String name, char typtype, char category, PgType element, PgType base,
            List<String> enumLabels) {
        this(oid, namespace, name, typtype, category, element, base, enumLabels, -1);
    }

    /** A built-in base type of {@code pg_catalog}, e.g. for tests: {@code PgType.builtin(23, "int4", 'N')}. */
    public static PgType builtin(long oid, String name, char category) {
        return new PgType(oid, "pg_catalog", name, 'b', category, null, null, List.of());
    }

    public static PgType arrayOf(long oid, PgType element) {
        return new PgType(oid, element.namespace(), "_" + element.name(), 'b', 'A', element, null, List.of());
    }

    public boolean isArray() {
        return element != null;
    }

    public boolean isDomain() {
        return typtype == 'd';
    }

    public boolean isEnum() {
        return typtype == 'e';
    }

    /** Follows domains down to the type whose values they hold. */
    public PgType withoutDomains() {
        PgType t = this;
        while (t.isDomain() && t.base != null) {
            t = t.base;
        }
        return t;
    }

    /**
     * The typmod that applies to this type's values in a column declared with {@code columnTypmod}: the
     * column's own when it has one, otherwise the first one a domain on the way down to the base type sets.
     */
    public int effectiveTypmod(int columnTypmod) {
        PgType t = this;
        int typmod = columnTypmod;
        while (typmod < 0 && t.isDomain() && t.base != null) {
            typmod = t.domainTypmod;
            t = t.base;
        }
        return typmod;
    }

    /** The type's name as SQL can cast to it, schema-qualified and quoted, e.g. {@code "public"."mood"}. */
    public String sqlName() {
        return '"' + namespace.replace("\"", "\"\"") + "\".\"" + name.replace("\"", "\"\"") + '"';
    }
}
