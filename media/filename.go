package media

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilenameLen bounds a display name, in bytes (most file systems allow 255).
const MaxFilenameLen = 200

// CleanFilename makes a client's filename safe to keep and show: the last path
// component only (for / and \ separators alike), no control or invisible formatting
// characters (a right-to-left override can make "exe.pdf" read as "fdp.exe"), valid
// UTF-8, no leading dots, at most MaxFilenameLen bytes with the extension kept. The
// name is data only: files are stored under generated keys. When nothing is left, it
// returns "file" plus fallbackExt (".pdf").
func CleanFilename(name, fallbackExt string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, " ")
	if len(name) > MaxFilenameLen {
		ext := path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		name = truncateUTF8(strings.TrimSuffix(name, ext), MaxFilenameLen-len(ext)) + ext
	}
	if name == "" {
		return "file" + fallbackExt
	}
	return name
}

// runnableExtensions are the extensions Windows runs (or hands to a script host, an
// installer or the registry) when the file is opened, and the JVM's: a recipient who
// double-clicks one runs a program. From Outlook's and Gmail's blocked lists.
var runnableExtensions = map[string]bool{
	"ade": true, "adp": true, "app": true, "application": true, "appref-ms": true, "appx": true,
	"appxbundle": true, "bas": true, "bat": true, "cab": true, "chm": true, "class": true,
	"cmd": true, "com": true, "cpl": true, "crt": true, "dll": true, "exe": true, "fxp": true,
	"gadget": true, "hlp": true, "hpj": true, "hta": true, "inf": true, "ins": true, "isp": true,
	"its": true, "jar": true, "jnlp": true, "js": true, "jse": true, "ksh": true, "lnk": true,
	"mad": true, "maf": true, "mag": true, "mam": true, "maq": true, "mar": true, "mas": true,
	"mat": true, "mau": true, "mav": true, "maw": true, "mcf": true, "mda": true, "mdb": true,
	"mde": true, "mdt": true, "mdw": true, "mdz": true, "msc": true, "msh": true, "msh1": true,
	"msh1xml": true, "msh2": true, "msh2xml": true, "mshxml": true, "msi": true, "msix": true,
	"msixbundle": true, "msp": true, "mst": true, "ops": true, "pcd": true, "pif": true,
	"plg": true, "prf": true, "prg": true, "ps1": true, "ps1xml": true, "ps2": true,
	"ps2xml": true, "psc1": true, "psc2": true, "psd1": true, "psm1": true,
	"reg": true, "scf": true, "scr": true, "sct": true, "settingcontent-ms": true, "shb": true,
	"shs": true, "sys": true, "url": true, "vb": true, "vbe": true, "vbp": true,
	"vbs": true, "vsmacros": true, "vsw": true, "vxd": true, "ws": true, "wsc": true,
	"wsf": true, "wsh": true, "xbap": true, "xll": true, "xnk": true,
}

// RunnableName reports whether a file of this name would be run rather than opened
// on a recipient's computer: its extension is one Windows or a JVM runs, compared
// case-insensitively, and as Windows reads the name (trailing dots and spaces dropped,
// an NTFS "::$DATA" stream suffix ignored). The content check (Classify) cannot see
// these: a batch file or an HTML application is plain text.
func RunnableName(name string) bool {
	for _, n := range []string{name, CleanFilename(name, "")} {
		if i := strings.LastIndexAny(n, `/\`); i >= 0 {
			n = n[i+1:]
		}
		n = strings.ToLower(n)
		for {
			t := strings.TrimSuffix(strings.TrimRight(n, ". \t"), "::$data")
			if t == n {
				break
			}
			n = t
		}
		if i := strings.LastIndexByte(n, '.'); i >= 0 && runnableExtensions[n[i+1:]] {
			return true
		}
	}
	return false
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ContentDisposition returns the Content-Disposition value that offers name as the
// download's name (RFC 6266): a plain-ASCII fallback in filename= for old clients and
// the exact UTF-8 name in filename*=. inline asks the browser to show the file.
func ContentDisposition(inline bool, name string) string {
	kind := "attachment"
	if inline {
		kind = "inline"
	}
	name = CleanFilename(name, "")
	var ascii strings.Builder
	for _, r := range name {
		switch {
		case r == '"' || r == '\\' || r == '%' || r < 0x20 || r > 0x7e:
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	return kind + `; filename="` + ascii.String() + `"; filename*=UTF-8''` + encodeRFC5987(name)
}

// encodeRFC5987 percent-encodes everything but RFC 5987's attr-char.
func encodeRFC5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
