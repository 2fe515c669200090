package io.sourcepostgres.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.Json;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the JSON files a command is given (config, catalog, state), failing with a config error that names the file. */
public final class InputFiles {
    private InputFiles() {}

    /**
     * @param role what the file is to the user ("config", "catalog", "state"), used in messages
     * @param mayHoldSecrets when true, a parse error does not quote the file's text
     */
    public static JsonNode readJson(Path path, String role, boolean mayHoldSecrets) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw ConnectorException.config("The " + role + " file " + path + " does not exist.");
        } catch (AccessDeniedException e) {
            throw ConnectorException.config("The " + role + " file " + path + " cannot be read: permission denied.");
        } catch (IOException e) {
            if (Files.isDirectory(path)) {
                throw ConnectorException.config("The " + role + " file " + path + " is a directory, not a file.");
            }
            throw ConnectorException.config("The " + role + " file " + path + " cannot be read: " + e.getMessage(), e);
        }
        if (bytes.length == 0 || new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
            throw ConnectorException.config("The " + role + " file " + path + " is empty; it must hold a JSON object.");
        }
        try {
            return Json.MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr();
            String why = mayHoldSecrets ? "" : ": " + e.getOriginalMessage();
            throw ConnectorException.config("The " + role + " file " + path + " is not valid JSON" + where + why + ".");
        } catch (IOException e) {
            throw ConnectorException.config("The " + role + " file " + path + " cannot be read: " + e.getMessage(), e);
        }
    }
}
