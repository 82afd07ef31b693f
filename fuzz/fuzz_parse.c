/*
 * fuzz_parse.c -- libFuzzer harness for the parser (make fuzz FUZZ_SECONDS=N).
 *
 * libFuzzer hands over an exactly sized heap copy of each input, so under
 * AddressSanitizer any read past the end of the text is reported. Every document
 * must also satisfy the properties of fuzz/properties.h; a violation aborts with
 * the property's name, and libFuzzer saves the input as a crash. The JSON
 * written for it (json_out.c) must read back as the same values (json_check.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "parse.h"
#include "properties.h"
#include "json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ex_document *doc = ex_parse(text, size, "fuzz", "fuzz/input.txt");
    if (!doc) {
        fprintf(stderr, "ex_parse returned NULL without running out of memory\n");
        abort();
    }
    const char *bad = ex_check_properties(text, size, doc);
    if (!bad)
        bad = ex_check_json(doc);
    if (bad) {
        fprintf(stderr, "property violated: %s\n", bad);
        abort();
    }
    ex_document_free(doc);
    return 0;
}
