"""Namespaces, algorithm URIs and the fixed Peppol AS4 values (Peppol AS4 profile 2.0.x on CEF AS4 1.14).

Everything that appears verbatim on the wire lives here, so the builder, the verifier and the tests use
the same strings.
"""

from __future__ import annotations

from typing import Final

# --- namespaces -------------------------------------------------------------------------------------
NS_S12: Final = "http://www.w3.org/2003/05/soap-envelope"
NS_S11: Final = "http://schemas.xmlsoap.org/soap/envelope/"
NS_EB: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
NS_EBBP: Final = "http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0"
NS_WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS_WSSE11: Final = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
NS_WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
NS_DS: Final = "http://www.w3.org/2000/09/xmldsig#"
NS_XENC: Final = "http://www.w3.org/2001/04/xmlenc#"
NS_XENC11: Final = "http://www.w3.org/2009/xmlenc11#"
NS_EC: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
NS_XML: Final = "http://www.w3.org/XML/1998/namespace"

# --- algorithms (CEF eDelivery AS4 1.14 §3.2.6) -----------------------------------------------------
ALG_EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
ALG_RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ALG_SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
ALG_SWA_CONTENT_SIGNATURE: Final = (
    "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Signature-Transform"
)
ALG_SWA_CIPHERTEXT: Final = (
    "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Ciphertext-Transform"
)
ALG_AES128_GCM: Final = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
ALG_RSA_OAEP_11: Final = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
ALG_MGF1_SHA256: Final = "http://www.w3.org/2009/xmlenc11#mgf1sha256"
TYPE_ATTACHMENT_CONTENT_ONLY: Final = (
    "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Only"
)

#: Algorithms seen on old or non-Peppol stacks; named so errors can say what was refused.
ALG_RSA_SHA1: Final = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
ALG_SHA1: Final = "http://www.w3.org/2000/09/xmldsig#sha1"
ALG_RSA_1_5: Final = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
ALG_RSA_OAEP_MGF1P: Final = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
ALG_AES128_CBC: Final = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
ALG_MGF1_SHA1: Final = "http://www.w3.org/2009/xmlenc11#mgf1sha1"

# Allow-lists: anything else is refused with EBMS:0103 PolicyNoncompliance.
ALLOWED_SIGNATURE_METHODS: Final = frozenset({ALG_RSA_SHA256})
ALLOWED_DIGEST_METHODS: Final = frozenset({ALG_SHA256})
ALLOWED_C14N_METHODS: Final = frozenset({ALG_EXC_C14N})
ALLOWED_XML_TRANSFORMS: Final = frozenset({ALG_EXC_C14N})
ALLOWED_ATTACHMENT_TRANSFORMS: Final = frozenset({ALG_SWA_CONTENT_SIGNATURE})
ALLOWED_DATA_ENCRYPTION: Final = frozenset({ALG_AES128_GCM})
ALLOWED_KEY_TRANSPORT: Final = frozenset({ALG_RSA_OAEP_11})
ALLOWED_OAEP_DIGESTS: Final = frozenset({ALG_SHA256})
ALLOWED_MGFS: Final = frozenset({ALG_MGF1_SHA256})

# --- WS-Security token profile ----------------------------------------------------------------------
BST_ENCODING_BASE64: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
BST_VALUE_TYPE_X509V3: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
)
#: A token type URI (not a secret).
TOKEN_TYPE_ENCRYPTED_KEY: Final = (
    "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#EncryptedKey"  # noqa: S105
)

# --- Peppol fixed values (Peppol AS4 profile 2.0.3, as4.md §3.2) -------------------------------------
PARTY_ID_TYPE: Final = "urn:fdc:peppol.eu:2017:identifiers:ap"
ROLE_INITIATOR: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator"
ROLE_RESPONDER: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder"
AGREEMENT_REF: Final = "urn:fdc:peppol.eu:2017:agreements:tia:ap_provider"
PROP_ORIGINAL_SENDER: Final = "originalSender"
PROP_FINAL_RECIPIENT: Final = "finalRecipient"
PART_PROP_MIME_TYPE: Final = "MimeType"
PART_PROP_COMPRESSION_TYPE: Final = "CompressionType"
COMPRESSION_GZIP: Final = "application/gzip"
#: MIME type of an encrypted attachment part on the wire.
ENCRYPTED_PART_CONTENT_TYPE: Final = "application/octet-stream"
SOAP_CONTENT_TYPE: Final = "application/soap+xml"
SOAP_PART_CONTENT_TYPE: Final = "application/soap+xml; charset=UTF-8"

# --- sizes ------------------------------------------------------------------------------------------
#: Chunk used for every streaming step (gzip, digest, AES-GCM).
CHUNK_SIZE: Final = 1024 * 1024
AES_KEY_BYTES: Final = 16
GCM_IV_BYTES: Final = 12
GCM_TAG_BYTES: Final = 16
