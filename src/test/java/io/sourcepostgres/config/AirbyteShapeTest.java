package io.sourcepostgres.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.config.ConnectionUri.HostPort;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Airbyte's configuration shape beside connectionURI: one form or the other, Airbyte's saved configs unchanged. */
class AirbyteShapeTest {
    private static final String CA = "-----BEGIN CERTIFICATE-----\nMIIBcA==\n-----END CERTIFICATE-----\n";
    private static final String KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
            + "-----END PRIVATE KEY-----\n";

    /** A configuration as Airbyte's own source-postgres saves it, Airbyte-only settings included. */
    static final String SAVED_BY_AIRBYTE = """
            {"host": "db.internal", "port": 6432, "database": "app", "username": "capture", "password": "s3cret",
             "schemas": ["public", "Sales"], "jdbc_url_params": "application_name=sync&connect_timeout=7",
             "ssl_mode": {"mode": "verify-full", "ca_certificate": %s, "client_key_password": ""},
             "replication_method": {"method": "CDC", "plugin": "pgoutput", "replication_slot": "airbyte_slot",
               "publication": "airbyte_publication", "initial_waiting_seconds": 1200, "queue_size": 10000,
               "lsn_commit_behaviour": "After loading Data in the destination", "heartbeat_action_query": "",
               "invalid_cdc_cursor_position_behavior": "Fail sync"},
             "tunnel_method": {"tunnel_method": "NO_TUNNEL"},
             "source_type": "postgres"}
            """.formatted(Json.MAPPER.valueToTree(CA).toString());

    @Test
    void anAirbyteSavedConfigurationWorksUnchanged() {
        ConnectorConfig c = ConnectorConfig.from(json(SAVED_BY_AIRBYTE));
        assertThat(c.uri().hosts()).containsExactly(new HostPort("db.internal", 6432));
        assertThat(c.uri().user()).isEqualTo("capture");
        assertThat(c.uri().database()).isEqualTo("app");
        assertThat(c.password()).isEqualTo("s3cret");
        assertThat(c.uri().parameter("sslmode")).isEqualTo("verify-full");
        assertThat(c.uri().parameter("sslrootcert")).isEqualTo(CA);
        assertThat(c.uri().parameter("application_name")).isEqualTo("sync");
        assertThat(c.connectTimeout().toSeconds()).isEqualTo(7);
        assertThat(c.slotName()).isEqualTo("airbyte_slot");
        assertThat(c.publicationName()).isEqualTo("airbyte_publication");
        assertThat(c.schemas()).containsExactly("public", "Sales");
        assertThat(c.tunnel()).isNull();
        assertThat(c.toString()).doesNotContain("MIIB").doesNotContain("s3cret");
    }

    @Test
    void portDefaultsTo5432AndSchemasToAll() {
        ConnectorConfig c = ConnectorConfig.from(json("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\"}"));
        assertThat(c.uri().hosts()).containsExactly(new HostPort("h", 5432));
        assertThat(c.schemas()).isNull();
        assertThat(c.slotName()).isEqualTo("flow_slot");
    }

    @Test
    void mixingTheTwoFormsNamesBoth() {
        assertConfigError("{\"connectionURI\":\"postgres://u@h/d\",\"host\":\"h\",\"ssl_mode\":{\"mode\":\"require\"}}",
                "connectionURI", "host, ssl_mode");
    }

    @Test
    void neitherFormSaysWhatToGive() {
        assertConfigError("{\"slot_name\":\"s\"}", "connectionURI", "host, database and username");
        assertConfigError("{\"host\":\"h\",\"database\":\"d\"}", "'username' is required");
    }

    @Test
    void jdbcUrlParamsTakeTheUriFormsParametersOnly() {
        ConnectorConfig c = ConnectorConfig.from(json("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\","
                + "\"jdbc_url_params\":\"options=-c%20search_path%3Dx&keepalives=0\"}"));
        assertThat(c.uri().parameter("options")).isEqualTo("-c search_path=x");
        assertThat(c.uri().parameter("keepalives")).isEqualTo("0");
        assertConfigError("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"jdbc_url_params\":\"prepareThreshold=0\"}",
                "jdbc_url_params sets 'prepareThreshold'", "sslmode");
        assertConfigError("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"jdbc_url_params\":\"password=x\"}",
                "jdbc_url_params may not set password");
    }

    @Test
    void sslModeBranchesAreCheckedLikeAirbytesSpec() {
        assertConfigError("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"ssl_mode\":{\"mode\":\"verify-ca\"}}",
                "'ssl_mode.ca_certificate' is required when mode is verify-ca");
        assertConfigError("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"ssl_mode\":{\"mode\":\"sometimes\"}}",
                "'ssl_mode.mode' must be one of [disable, allow, prefer, require, verify-ca, verify-full]");
        assertConfigError("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"ssl_mode\":{\"mode\":\"verify-ca\","
                + "\"ca_certificate\":\"/etc/ssl/ca.pem\"}}", "ssl_mode.ca_certificate must be the PEM text itself");
        ConnectorConfig c = ConnectorConfig.from(json("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\","
                + "\"ssl_mode\":{\"mode\":\"require\",\"client_certificate\":" + quote(CA) + ",\"client_key\":"
                + quote(KEY) + ",\"client_key_password\":\"kp\"}}"));
        assertThat(c.uri().parameter("sslkey")).isEqualTo(KEY);
        assertThat(c.uri().parameter("sslpassword")).isEqualTo("kp");
        assertThat(c.uri().toString()).doesNotContain("MIIEvQ").doesNotContain("kp").contains("<inline PEM>");
        ConnectorConfig prefer = ConnectorConfig.from(json("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\","
                + "\"ssl_mode\":{\"mode\":\"prefer\",\"ca_certificate\":" + quote(CA) + "}}"));
        assertThat(prefer.uri().parameter("sslrootcert")).as("left over from verify-full in Airbyte's UI").isNull();
    }

    @Test
    void onlyCdcIsAReplicationMethod() {
        assertConfigError("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"replication_method\":{\"method\":\"Xmin\"}}",
                "'replication_method.method' must be one of [CDC]");
        assertConfigError("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"slot_name\":\"a\","
                + "\"replication_method\":{\"method\":\"CDC\",\"replication_slot\":\"b\",\"publication\":\"p\"}}",
                "slot_name and replication_method.replication_slot");
    }

    @Test
    void theTunnelIsReadWithAirbytesNamesAndNeverShown() {
        ConnectorConfig c = ConnectorConfig.from(json("{\"host\":\"db\",\"database\":\"d\",\"username\":\"u\","
                + "\"tunnel_method\":{\"tunnel_method\":\"SSH_KEY_AUTH\",\"tunnel_host\":\"bastion\",\"tunnel_user\":\"ec2-user\","
                + "\"ssh_key\":" + quote(KEY) + "}}"));
        assertThat(c.tunnel().host()).isEqualTo("bastion");
        assertThat(c.tunnel().port()).isEqualTo(22);
        assertThat(c.tunnel().usesKey()).isTrue();
        assertThat(c.toString()).contains("ec2-user@bastion:22").doesNotContain("MIIEvQ");
        ConnectorConfig p = ConnectorConfig.from(json("{\"host\":\"db\",\"database\":\"d\",\"username\":\"u\","
                + "\"tunnel_method\":{\"tunnel_method\":\"SSH_PASSWORD_AUTH\",\"tunnel_host\":\"b\",\"tunnel_port\":2222,"
                + "\"tunnel_user\":\"t\",\"tunnel_user_password\":\"tp\"}}"));
        assertThat(p.tunnel().port()).isEqualTo(2222);
        assertThat(p.tunnel().password()).isEqualTo("tp");
        assertThat(p.toString()).doesNotContain("tp");
        assertConfigError("{\"host\":\"db\",\"database\":\"d\",\"username\":\"u\",\"tunnel_method\":{\"tunnel_method\":"
                + "\"SSH_KEY_AUTH\",\"tunnel_host\":\"b\",\"tunnel_user\":\"t\"}}",
                "'tunnel_method.ssh_key' is required when tunnel_method is SSH_KEY_AUTH");
    }

    @Test
    void theUriFormTakesATunnelToOneHost() {
        String tunnel = ",\"tunnel_method\":{\"tunnel_method\":\"SSH_PASSWORD_AUTH\",\"tunnel_host\":\"b\","
                + "\"tunnel_user\":\"t\",\"tunnel_user_password\":\"tp\"}}";
        ConnectorConfig c = ConnectorConfig.from(json("{\"connectionURI\":\"postgres://u@db.internal/d\"" + tunnel));
        assertThat(c.tunnel().describe()).isEqualTo("t@b:22");
        assertConfigError("{\"connectionURI\":\"postgres://u@h1,h2/d\"" + tunnel, "2 hosts", "SSH tunnel forwards to one");
        ConnectorConfig none = ConnectorConfig.from(json("{\"connectionURI\":\"postgres://u@h/d\","
                + "\"tunnel_method\":{\"tunnel_method\":\"NO_TUNNEL\"}}"));
        assertThat(none.tunnel()).isNull();
    }

    @Test
    void theUriFormTakesInlinePemInItsSslParameters() {
        ConnectionUri uri = ConnectionUri.parse("postgres://u@h/d?sslmode=verify-ca&sslrootcert="
                + java.net.URLEncoder.encode(CA, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20"));
        assertThat(AirbyteShape.isInlinePem(uri.parameter("sslrootcert"))).isTrue();
        assertThat(uri.parameter("sslrootcert")).isEqualTo(CA);
        assertThat(AirbyteShape.isInlinePem("/etc/ssl/ca.pem")).isFalse();
    }

    @Test
    void unknownTopLevelKeysAreStillRefused() {
        assertConfigError("{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"colour\":1}", "'colour' is not a known setting");
    }

    private static void assertConfigError(String config, String... parts) {
        assertThatThrownBy(() -> ConnectorConfig.from(json(config)))
                .isInstanceOfSatisfying(ConnectorException.class, e -> {
                    assertThat(e.failureType()).isEqualTo(FailureType.CONFIG_ERROR);
                    for (String part : parts) {
                        assertThat(e.getMessage()).contains(part);
                    }
                });
    }

    private static String quote(String s) {
        return Json.MAPPER.valueToTree(s).toString();
    }

    private static JsonNode json(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

}
