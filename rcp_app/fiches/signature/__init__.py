"""The organisation's electronic seal on the fiche PDFs (PAdES), and its verification.

``pades`` seals (pyHanko, optional RFC 3161 time stamp); ``seal`` loads the configured seal and
trusted roots once per process; ``pki`` makes the test PKI of the demo and the tests;
``verify`` checks a signed PDF; ``bounded`` runs that check on an untrusted upload in a child
process (``verify_child``) limited in CPU and memory; ``sync`` lets pyHanko's blocking API run
under an event loop.

Nothing here touches the database or the fiche models: the verification child imports this
package alone, so this file imports nothing.
"""
