"""Files on SFTP and FTP(S) servers: the location URL, the clients (one
interface over paramiko and ftplib), listing with globs and selection, and
the download that streams a remote file into the engine."""
