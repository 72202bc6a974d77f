<#
  secscan Windows capture (secscan.windows-capture/1), script version 2

  Collects the facts secscan needs from this PC in ONE PowerShell process and writes ONE JSON
  document, the capture. It changes nothing on the PC (secedit writes one temporary file and
  deletes it) except its own state folder %ProgramData%\secscan (spool and log), and that only when
  it delivers captures (-Push). Runs on Windows PowerShell 5.1 (Windows 7/8.1 need WMF 5.1 and .NET
  Framework 4.5 or later) and on PowerShell 7, as administrator or not: a section that cannot be
  read says so (status denied/unsupported/error with the reason).

  Usage:
    collect.ps1                              the capture (plain JSON) on standard output
    collect.ps1 -OutFile E:\PC01.json        the plain capture to a file (USB stick); with a token
                                             (-TokenFile or -Config) the signed envelope instead
    collect.ps1 -Config C:\ProgramData\secscan\secscan.json
                                             what the scheduled task runs: unit, collector URL,
                                             share, spool limits and token file from the kit
    collect.ps1 -TokenFile T -Push https://collector/api/v1/reports
    collect.ps1 -TokenFile T -OutDir \\server\secscan$\xa-an-binh
    collect.ps1 -Config ... -SelfTest        versions, TLS 1.2, the HMAC test vector, the collector's
                                             /healthz; collects nothing, writes nothing
  Parameters given on the command line win over the configuration file. -Spool PATH moves the spool
  (default %ProgramData%\secscan\spool). With both a collector and a share, the share is the
  fallback: the signed file is written there only when this run's capture did not reach the
  collector (it stays spooled as well; the collector stores a capture once however often it comes).

  The signed envelope (what -Push sends and -OutDir/-OutFile write with a token): one ASCII line
    secscan-signed/1 HMAC-SHA256 <key_id> <64 lowercase hex digits>  then LF (0x0A), then the body,
  the capture JSON exactly as written, UTF-8 without BOM. Token sst_<key_id>.<secret>; key =
  SHA-256(ASCII 'secscan-report-signing' + one 0x00 byte + UTF-8 <secret>); hex = HMAC-SHA256(key,
  body). Test vectors: docs/windows.md; -SelfTest prints the HMAC of vector 1.
  Files: <HOSTNAME>_<yyyyMMddTHHmmssZ>_<capture_id>.secscan, written as <name>.tmp then renamed.
  Push: POST, Authorization: Bearer <token>, Content-Type: application/vnd.secscan.signed, TLS 1.2,
  certificates checked against Windows' own store (there is no way to turn that off).
  Collector answers: 200 stored or duplicate (deleted from the spool); other 4xx except 408/429 a
  refusal (moved to spool\rejected\ with <name>.reason.txt); 5xx, 408, 429, a redirect or a network
  or certificate error: kept in the spool, nothing more is sent this run.

  Exit codes (when several apply, the largest wins):
    0  done: the capture went everywhere it was asked to go
    1  unexpected failure (an error PowerShell reports itself)
    2  usage or configuration error (bad parameter, configuration, token or URL); nothing collected
    3  the collector was not reached or asked to retry later: captures kept in the spool
    4  the collector refused a capture: moved to spool\rejected\ with the reason
    5  a capture could not be written (-OutFile, -OutDir share, or the spool)
    6  -SelfTest found a problem

  Written for the PowerShell 5.1 grammar on purpose: no ??, ?., ternary, && / || chains, -AsArray,
  ForEach-Object -Parallel. Dates are written as ISO 8601 UTC strings so the output does not depend
  on the PowerShell version; enums are written as text or numbers explicitly.
#>
param(
  [string]$OutFile = '',
  [string]$Config = '',
  [string]$TokenFile = '',
  [string]$Push = '',
  [string]$OutDir = '',
  [string]$Spool = '',
  [switch]$SelfTest
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Utf8 = New-Object System.Text.UTF8Encoding($false)
try { [Console]::OutputEncoding = $Utf8 } catch { $null = $_ }

$CimTimeout = 30
$VersionValues = 'ProductName', 'DisplayVersion', 'ReleaseId', 'CurrentBuild', 'CurrentBuildNumber', 'UBR', 'EditionID',
'InstallationType', 'CurrentVersion', 'CSDVersion'
$KmsValues = 'KeyManagementServiceName', 'KeyManagementServicePort'
$ScreenValues = 'ScreenSaveActive', 'ScreenSaverIsSecure', 'ScreenSaveTimeOut', 'SCRNSAVE.EXE'
$Started = [DateTime]::UtcNow
$Sections = [ordered]@{}

# The activator artefact paths come from secscan/agent/data/activators.toml: `secscan agent script
# windows` writes them between the two marker lines. Environment variables are expanded here.
$ArtefactPaths = @(
  # secscan:artefact-paths:begin
  # secscan:artefact-paths:end
)


function ConvertTo-Iso($Value) {
  if ($null -eq $Value) { return $null }
  if ($Value -is [datetime]) {
    # FILETIME zero (1601) and DateTime.MinValue mean "never".
    if ($Value.Year -le 1601) { return $null }
    return $Value.ToUniversalTime().ToString('o')
  }
  return [string]$Value
}

function Get-FailureStatus($Failure) {
  $ex = $Failure.Exception
  $hr = ''
  try { $hr = '{0:X8}' -f $ex.HResult } catch { $hr = '' }
  $text = [string]$ex.Message + ' ' + [string]$Failure.FullyQualifiedErrorId + ' ' + $hr
  if ($ex -is [System.UnauthorizedAccessException] -or $ex -is [System.Security.SecurityException]) { return 'denied' }
  if ($text -match '0x80041003|80041003|0x80070005|80070005|AccessDenied|Access is denied|PermissionDenied') { return 'denied' }
  if ($ex -is [System.Management.Automation.CommandNotFoundException]) { return 'unsupported' }
  if ($text -match '0x8004100E|8004100E|0x80041010|80041010|InvalidNamespace|InvalidClass|Invalid namespace|Invalid class|NotSupported') { return 'unsupported' }
  return 'error'
}

function Invoke-Section([string]$Name, [scriptblock]$Body) {
  $watch = [System.Diagnostics.Stopwatch]::StartNew()
  $entry = [ordered]@{ status = 'ok'; error = $null; ms = 0; data = $null }
  try {
    $entry.data = & $Body
  } catch {
    $entry.status = Get-FailureStatus $_
    $entry.error = ([string]$_.Exception.Message).Trim()
  }
  $entry.ms = [int]$watch.ElapsedMilliseconds
  $Sections[$Name] = $entry
}

function Deny([string]$Why) {
  throw (New-Object System.UnauthorizedAccessException($Why))
}

function Get-Cim([string]$Class, [string]$Namespace = 'root/cimv2', [string]$Filter = '') {
  if ($Filter) {
    return Get-CimInstance -Namespace $Namespace -ClassName $Class -Filter $Filter -OperationTimeoutSec $CimTimeout
  }
  return Get-CimInstance -Namespace $Namespace -ClassName $Class -OperationTimeoutSec $CimTimeout
}

# Values of one registry key as an ordered table (only the -Only names when given: never more than
# needed, e.g. not DigitalProductId, which encodes the product key), or $null when the key does not
# exist. A key that exists but may not be read raises (the section then says "denied").
function Get-RegKey([string]$Path, [string[]]$Only = @()) {
  try {
    $key = Get-Item -LiteralPath $Path
  } catch [System.Management.Automation.ItemNotFoundException] {
    return $null
  }
  $names = $Only
  if ($Only.Count -eq 0) { $names = $key.GetValueNames() }
  $values = [ordered]@{}
  foreach ($valueName in $names) {
    $value = $key.GetValue($valueName, $null, 'DoNotExpandEnvironmentNames')
    if ($value -is [byte[]]) { $value = [Convert]::ToBase64String($value) }
    $values[$valueName] = $value
  }
  return $values
}

function Get-RegSubKeyNames([string]$Path) {
  try {
    return @((Get-Item -LiteralPath $Path).GetSubKeyNames())
  } catch [System.Management.Automation.ItemNotFoundException] {
    return @()
  }
}

$Identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
$Elevated = ([System.Security.Principal.WindowsPrincipal]$Identity).IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)


# --- delivery: configuration, token, signed envelope, spool, HTTPS push, self-test ---------------

$ScriptVersion = 2
$KitFormat = 'secscan.windows-kit/1'
$TokenPattern = '^sst_([A-Za-z0-9]{8,32})\.([A-Za-z0-9_-]{32,128})$'
$SignedType = 'application/vnd.secscan.signed'
$StateDir = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('CommonApplicationData'), 'secscan')
$LogFile = [System.IO.Path]::Combine($StateDir, 'secscan.log')
$SidSystem = 'S-1-5-18'
$SidAdmins = 'S-1-5-32-544'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
# Test vector 1 of docs/windows.md (a test keeps the two equal).
$Vector1Token = 'sst_0123456789ab.' + ('A' * 43)
$Vector1Body = '{"schema":"secscan.windows-capture/1"}'
$Vector1Hmac = '50cf221a0c54161ad2616e01f8ba988c36790e9d691788e97e854b7cb30fa705'
# Test vector 2: a Vietnamese host name (non-ASCII, so the UTF-8 encoding is checked too). This file
# stays ASCII: the letters are written as code points.
$Vector2Body = '{"schema":"secscan.windows-capture/1","hostname":"M' + [char]0x00C1 + 'Y-K' + [char]0x1EBE + '-TO' + [char]0x00C1 + 'N-01"}'
$Vector2Hmac = '3ff50e3a9143982d6a500b010631ec5b6a618d99c359470073f221d3509b547a'

$Run = @{
  ConfigPath = ''; Unit = ''; PushUrl = ''; OutDir = ''; SpoolDir = ''; TokenPath = ''; Proxy = ''
  Token = $null; TokenError = ''; MaxFiles = 60; MaxBytes = 64 * 1024 * 1024; Exit = 0; Notes = @()
}

function Write-Line([string]$Text) {
  [Console]::Out.WriteLine('secscan: ' + $Text)
}

# One line in %ProgramData%\secscan\secscan.log, only when that folder exists (it is never created
# for the log alone); kept under 1 MB by moving it to secscan.log.1. A log that cannot be written is
# skipped: the same line went to standard output.
function Write-Log([string]$Text) {
  try {
    if (-not [System.IO.Directory]::Exists($StateDir)) { return }
    $info = New-Object System.IO.FileInfo($LogFile)
    if ($info.Exists -and $info.Length -gt 1048576) {
      $old = $LogFile + '.1'
      if ([System.IO.File]::Exists($old)) { [System.IO.File]::Delete($old) }
      [System.IO.File]::Move($LogFile, $old)
    }
    $line = [DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm:ss', $Invariant) + 'Z ' + $Text + "`r`n"
    [System.IO.File]::AppendAllText($LogFile, $line, $Utf8)
  } catch {
    $null = $_
  }
}

function Write-Event([string]$Text) {
  Write-Line $Text
  Write-Log $Text
}

function Set-ExitCode([int]$Code) {
  if ($Code -gt $Run.Exit) { $Run.Exit = $Code }
}

# Usage and configuration errors: one line on standard error, exit code 2, nothing collected.
function Stop-Usage([string]$Text) {
  [Console]::Error.WriteLine('secscan: ' + $Text)
  Write-Log ('usage error: ' + $Text)
  exit 2
}

function Resolve-FullPath([string]$Path) {
  $expanded = [System.Environment]::ExpandEnvironmentVariables($Path)
  return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($expanded)
}

function Get-InnerWebException($Exception) {
  $e = $Exception
  while ($null -ne $e) {
    if ($e -is [System.Net.WebException]) { return $e }
    $e = $e.InnerException
  }
  return $null
}

function Get-ErrorText($Exception) {
  $e = $Exception
  while ($null -ne $e.InnerException -and ($e -is [System.Management.Automation.MethodInvocationException] -or
      $e -is [System.Management.Automation.RuntimeException])) {
    $e = $e.InnerException
  }
  return ([string]$e.Message).Trim()
}

# The kit's configuration (secscan.json, written by `secscan agent package windows`).
function Read-KitConfig([string]$Path) {
  $full = Resolve-FullPath $Path
  if (-not [System.IO.File]::Exists($full)) { Stop-Usage ('-Config: no such file: ' + $full) }
  try {
    $cfg = ConvertFrom-Json ([System.IO.File]::ReadAllText($full, $Utf8))
  } catch {
    Stop-Usage ('-Config: ' + $full + ' is not valid JSON: ' + (Get-ErrorText $_.Exception))
  }
  if ([string]$cfg.format -ne $KitFormat) {
    Stop-Usage ('-Config: ' + $full + ' is not a secscan kit configuration (format should be ' + $KitFormat + ')')
  }
  $Run.ConfigPath = $full
  $dir = [System.IO.Path]::GetDirectoryName($full)
  try {
    $Run.Unit = [string]$cfg.unit
    if ($cfg.collector) { $Run.PushUrl = [string]$cfg.collector }
    if ($cfg.share) { $Run.OutDir = [string]$cfg.share }
    if ($cfg.proxy) { $Run.Proxy = [string]$cfg.proxy }
    if ($cfg.spool) { $Run.SpoolDir = Resolve-FullPath ([string]$cfg.spool) }
    if ($null -ne $cfg.spool_max_files) { $Run.MaxFiles = [int]$cfg.spool_max_files }
    if ($null -ne $cfg.spool_max_mb) { $Run.MaxBytes = [long]$cfg.spool_max_mb * 1024 * 1024 }
    $tokenFile = 'token.txt'
    if ($cfg.token_file) { $tokenFile = [System.Environment]::ExpandEnvironmentVariables([string]$cfg.token_file) }
    if (-not [System.IO.Path]::IsPathRooted($tokenFile)) { $tokenFile = [System.IO.Path]::Combine($dir, $tokenFile) }
    $Run.TokenPath = $tokenFile
    if ($null -ne $cfg.script_version -and [int]$cfg.script_version -ne $ScriptVersion) {
      $Run.Notes += ('the configuration was written for script version ' + [string]$cfg.script_version +
        ', this is version ' + $ScriptVersion + ': make a new kit')
    }
  } catch {
    Stop-Usage ('-Config: ' + $full + ': ' + (Get-ErrorText $_.Exception))
  }
}

# The unit token: the first word of the file. Returns @{ Text; KeyId; Secret } or sets TokenError.
function Read-UnitToken([string]$Path) {
  if (-not [System.IO.File]::Exists($Path)) {
    $Run.TokenError = 'token file not found (or not readable by this account): ' + $Path
    return
  }
  try {
    $text = [System.IO.File]::ReadAllText($Path, $Utf8)
  } catch {
    $Run.TokenError = 'token file ' + $Path + ' cannot be read (it is for SYSTEM and Administrators only): ' + (Get-ErrorText $_.Exception)
    return
  }
  $word = ([string]$text).Trim() -split '\s+' | Select-Object -First 1
  $m = [regex]::Match([string]$word, $TokenPattern)
  if (-not $m.Success) {
    $Run.TokenError = 'token file ' + $Path + ' does not hold a secscan unit token (sst_<key id>.<secret>)'
    return
  }
  $Run.Token = @{ Text = [string]$word; KeyId = $m.Groups[1].Value; Secret = $m.Groups[2].Value }
}

# https:// only; http:// is allowed for this PC itself (a test collector on 127.0.0.1/localhost).
function Test-CollectorUrl([string]$Url) {
  $uri = $null
  if (-not [System.Uri]::TryCreate($Url, [System.UriKind]::Absolute, [ref]$uri)) { return ('not an absolute URL: ' + $Url) }
  if ($uri.Scheme -eq 'https') { return '' }
  if ($uri.Scheme -eq 'http' -and ($uri.IsLoopback -or $uri.Host -eq 'localhost')) { return '' }
  return ('the collector URL must start with https:// (http:// only for 127.0.0.1 or localhost): ' + $Url)
}

function Get-Sha256([byte[]]$Data) {
  $sha = [System.Security.Cryptography.SHA256]::Create()
  try {
    $hash = $sha.ComputeHash($Data)
  } finally {
    $sha.Dispose()
  }
  return , $hash
}

# signing key = SHA-256( ASCII 'secscan-report-signing' + 0x00 + UTF-8 secret )
function Get-SigningKey([string]$Secret) {
  $label = [System.Text.Encoding]::ASCII.GetBytes('secscan-report-signing')
  $secretBytes = $Utf8.GetBytes($Secret)
  $material = New-Object byte[] ($label.Length + 1 + $secretBytes.Length)
  [System.Array]::Copy($label, 0, $material, 0, $label.Length)
  $material[$label.Length] = 0
  [System.Array]::Copy($secretBytes, 0, $material, $label.Length + 1, $secretBytes.Length)
  return , (Get-Sha256 $material)
}

function Get-HmacHex([byte[]]$Key, [byte[]]$Data) {
  $hmac = New-Object System.Security.Cryptography.HMACSHA256
  try {
    $hmac.Key = $Key
    $hash = $hmac.ComputeHash($Data)
  } finally {
    $hmac.Dispose()
  }
  return ([System.BitConverter]::ToString($hash)).Replace('-', '').ToLowerInvariant()
}

function Get-TokenParts([string]$TokenText) {
  $m = [regex]::Match($TokenText, $TokenPattern)
  return @{ Text = $TokenText; KeyId = $m.Groups[1].Value; Secret = $m.Groups[2].Value }
}

# The envelope: 'secscan-signed/1 HMAC-SHA256 <key_id> <hex>' + LF, then the body bytes unchanged.
function New-Envelope([byte[]]$Body, $Token) {
  $hex = Get-HmacHex (Get-SigningKey $Token.Secret) $Body
  $header = [System.Text.Encoding]::ASCII.GetBytes('secscan-signed/1 HMAC-SHA256 ' + $Token.KeyId + ' ' + $hex + "`n")
  $all = New-Object byte[] ($header.Length + $Body.Length)
  [System.Array]::Copy($header, 0, $all, 0, $header.Length)
  [System.Array]::Copy($Body, 0, $all, $header.Length, $Body.Length)
  return , $all
}

# Atomic write: <name>.tmp first, flushed to disk, then renamed to <name>. A reader that takes only
# the final suffix (the collector takes *.secscan) never sees half a file.
function Write-FileAtomic([string]$Path, [byte[]]$Bytes) {
  $tmp = $Path + '.tmp'
  $stream = New-Object System.IO.FileStream($tmp, [System.IO.FileMode]::Create, [System.IO.FileAccess]::Write, [System.IO.FileShare]::None)
  try {
    $stream.Write($Bytes, 0, $Bytes.Length)
    $stream.Flush($true)
  } finally {
    $stream.Dispose()
  }
  try {
    if ([System.IO.File]::Exists($Path)) { [System.IO.File]::Delete($Path) }
    [System.IO.File]::Move($tmp, $Path)
  } catch {
    try { [System.IO.File]::Delete($tmp) } catch { $null = $_ }
    throw
  }
}

# A folder only SYSTEM and Administrators may open (plus the current account when it is not an
# administrator, so a manual run with -Spool can use its own folder), inheritance from the parent
# cut, owned by Administrators. By SID: account names are localized. Created with its ACL in one
# step, so there is no moment where the inherited ProgramData rights apply.
function New-PrivateFolder([string]$Path) {
  $security = New-Object System.Security.AccessControl.DirectorySecurity
  $security.SetAccessRuleProtection($true, $false)
  $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
  $propagate = [System.Security.AccessControl.PropagationFlags]::None
  $full = [System.Security.AccessControl.FileSystemRights]::FullControl
  $allow = [System.Security.AccessControl.AccessControlType]::Allow
  $sids = @($SidSystem, $SidAdmins)
  if (-not $Elevated) { $sids += $Identity.User.Value }
  foreach ($sid in $sids) {
    $account = New-Object System.Security.Principal.SecurityIdentifier($sid)
    $security.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($account, $full, $inherit, $propagate, $allow)))
  }
  if ($Elevated) { $security.SetOwner((New-Object System.Security.Principal.SecurityIdentifier($SidAdmins))) }
  $withAcl = [System.IO.Directory].GetMethod('CreateDirectory', [type[]]@([string], [System.Security.AccessControl.DirectorySecurity]))
  if ($null -ne $withAcl) {
    $null = [System.IO.Directory]::CreateDirectory($Path, $security)
    return
  }
  # PowerShell 7 (.NET Core) has no CreateDirectory(path, security): create, then set the ACL, and
  # take the folder away again if the ACL cannot be set.
  $null = [System.IO.Directory]::CreateDirectory($Path)
  try {
    Set-Acl -LiteralPath $Path -AclObject $security
  } catch {
    [System.IO.Directory]::Delete($Path, $false)
    throw
  }
}

# Spool files, oldest first.
function Get-Envelopes([string]$Dir) {
  return @(Get-ChildItem -LiteralPath $Dir -Filter '*.secscan' -File -Force | Sort-Object -Property 'LastWriteTimeUtc', 'Name')
}

# Keep a folder of envelopes within the limits by dropping the oldest, never $Keep; say so.
function Limit-Envelopes([string]$Dir, [string]$Keep, [string]$What) {
  $files = @(Get-Envelopes $Dir)
  $count = $files.Count
  $bytes = [long]0
  foreach ($f in $files) { $bytes += $f.Length }
  foreach ($f in $files) {
    if ($count -le $Run.MaxFiles -and $bytes -le $Run.MaxBytes) { break }
    if ($f.Name -eq $Keep) { continue }
    [System.IO.File]::Delete($f.FullName)
    $reason = $f.FullName + '.reason.txt'
    if ([System.IO.File]::Exists($reason)) { [System.IO.File]::Delete($reason) }
    $count -= 1
    $bytes -= $f.Length
    Write-Event ($What + ' over its limit (' + $Run.MaxFiles + ' files, ' + $Run.MaxBytes + ' bytes): dropped the oldest capture ' + $f.Name)
  }
}

# The spool folder, created when missing (the default one needs administrator rights).
function Open-Spool {
  $dir = $Run.SpoolDir
  if (-not [System.IO.Directory]::Exists($dir)) {
    $underState = $dir.StartsWith($StateDir, [System.StringComparison]::OrdinalIgnoreCase)
    if ($underState -and -not $Elevated) {
      throw ('the spool ' + $dir + ' belongs to SYSTEM and Administrators: run as administrator, or give -Spool PATH')
    }
    if ($underState -and -not [System.IO.Directory]::Exists($StateDir)) { New-PrivateFolder $StateDir }
    New-PrivateFolder $dir
  }
  # Temporary files left by a run that was stopped half-way.
  $stale = [DateTime]::UtcNow.AddHours(-1)
  foreach ($t in @(Get-ChildItem -LiteralPath $dir -Filter '*.tmp' -File -Force)) {
    if ($t.LastWriteTimeUtc -lt $stale) { [System.IO.File]::Delete($t.FullName) }
  }
  return $dir
}

# TLS 1.2 added to what the process already offers (.NET 4.x on Windows 7/8.1 offers only TLS 1.0
# by default). Certificates are checked by Windows' own store: nothing here replaces that check.
function Enable-Tls12 {
  if ([System.Enum]::GetNames([System.Net.SecurityProtocolType]) -notcontains 'Tls12') { return $false }
  [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]'Tls12'
  return $true
}

# One HTTP request. Returns @{ Status (0 = no answer); Detail; Network (the failure, if any) }.
# HttpWebRequest throws WebException for 4xx/5xx: its Response still carries the status and body.
function Invoke-Http([string]$Method, [string]$Url, [string]$Bearer, [byte[]]$Body, [int]$TimeoutMs) {
  $result = @{ Status = 0; Detail = ''; Network = '' }
  $response = $null
  try {
    $request = [System.Net.WebRequest]::Create($Url)
    $request.Method = $Method
    $request.Timeout = $TimeoutMs
    $request.ReadWriteTimeout = $TimeoutMs
    $request.AllowAutoRedirect = $false
    $request.UserAgent = 'secscan-collect/' + $ScriptVersion
    $request.Accept = 'application/json'
    $request.ServicePoint.Expect100Continue = $false
    if ($Run.Proxy) { $request.Proxy = New-Object System.Net.WebProxy($Run.Proxy, $true) }
    if ($Bearer) { $request.Headers.Add('Authorization', 'Bearer ' + $Bearer) }
    if ($null -ne $Body) {
      $request.ContentType = $SignedType
      $request.ContentLength = $Body.Length
      $stream = $request.GetRequestStream()
      try { $stream.Write($Body, 0, $Body.Length) } finally { $stream.Dispose() }
    }
    $response = $request.GetResponse()
  } catch {
    $web = Get-InnerWebException $_.Exception
    if ($null -ne $web -and $null -ne $web.Response) {
      $response = $web.Response
    } elseif ($null -ne $web) {
      $result.Network = [string]$web.Status + ': ' + ([string]$web.Message).Trim()
      if ($web.Status -eq [System.Net.WebExceptionStatus]::TrustFailure) {
        $result.Network += ' (the collector certificate is not trusted: its CA belongs in Trusted Root Certification Authorities)'
      }
      return $result
    } else {
      $result.Network = Get-ErrorText $_.Exception
      return $result
    }
  }
  try {
    $result.Status = [int]$response.StatusCode
    $reader = New-Object System.IO.StreamReader($response.GetResponseStream(), $Utf8)
    $buffer = New-Object char[] 2000
    $read = $reader.ReadBlock($buffer, 0, $buffer.Length)
    $text = (New-Object string($buffer, 0, $read)).Trim()
    $result.Detail = $text
    try {
      $answer = ConvertFrom-Json $text
      if ($answer.detail) { $result.Detail = [string]$answer.detail }
    } catch {
      $null = $_
    }
    if ($result.Status -ge 300 -and $result.Status -lt 400) {
      $result.Detail = 'redirected to ' + [string]$response.Headers['Location'] + ': give the collector URL itself'
    }
  } catch {
    $result.Detail = Get-ErrorText $_.Exception
  } finally {
    $response.Close()
  }
  return $result
}

# Send every spooled envelope, oldest first. 200: delivered (deleted). Other 4xx except 408/429:
# refused (moved to rejected\ with the reason). Anything else: kept, and nothing more this run.
function Send-Spool([string]$Dir) {
  $outcome = @{ Delivered = @(); Rejected = @(); Kept = 0; Error = '' }
  $files = @(Get-Envelopes $Dir)
  for ($i = 0; $i -lt $files.Count; $i++) {
    $file = $files[$i]
    $answer = Invoke-Http 'POST' $Run.PushUrl $Run.Token.Text ([System.IO.File]::ReadAllBytes($file.FullName)) 30000
    $status = $answer.Status
    if ($status -eq 200) {
      [System.IO.File]::Delete($file.FullName)
      $outcome.Delivered += $file.Name
      Write-Log ('delivered ' + $file.Name + ': ' + $answer.Detail)
    } elseif ($status -ge 400 -and $status -lt 500 -and $status -ne 408 -and $status -ne 429) {
      $rejected = [System.IO.Path]::Combine($Dir, 'rejected')
      if (-not [System.IO.Directory]::Exists($rejected)) { $null = [System.IO.Directory]::CreateDirectory($rejected) }
      $target = [System.IO.Path]::Combine($rejected, $file.Name)
      if ([System.IO.File]::Exists($target)) { [System.IO.File]::Delete($target) }
      [System.IO.File]::Move($file.FullName, $target)
      [System.IO.File]::WriteAllText($target + '.reason.txt', ('HTTP ' + $status + "`r`n" + $answer.Detail + "`r`n"), $Utf8)
      $outcome.Rejected += $file.Name
      Write-Event ('the collector refused ' + $file.Name + ' (HTTP ' + $status + ': ' + $answer.Detail + '); moved to ' + $rejected)
      Limit-Envelopes $rejected '' 'spool\rejected'
    } else {
      $why = $answer.Network
      if ($status -ne 0) { $why = 'HTTP ' + $status + ': ' + $answer.Detail }
      $outcome.Kept = $files.Count - $i
      $outcome.Error = $why
      Write-Event ('collector not reached (' + $why + '); ' + $outcome.Kept + ' capture(s) kept in ' + $Dir + ' for the next run')
      break
    }
  }
  return $outcome
}

# /healthz beside /api/v1/reports (https://host/x/api/v1/reports -> https://host/x/healthz).
function Get-HealthUrl([string]$Url) {
  $uri = New-Object System.Uri($Url)
  $path = $uri.AbsolutePath.TrimEnd('/')
  $suffix = '/api/v1/reports'
  if ($path.EndsWith($suffix, [System.StringComparison]::OrdinalIgnoreCase)) {
    $path = $path.Substring(0, $path.Length - $suffix.Length)
  } else {
    $path = ''
  }
  return $uri.GetLeftPart([System.UriPartial]::Authority) + $path + '/healthz'
}

function Get-DotNetRelease {
  try {
    $key = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' -Name 'Release'
    return [int]$key.Release
  } catch {
    return 0
  }
}

function Get-DotNetName([int]$Release) {
  $names = @(
    @(533320, '4.8.1'), @(528040, '4.8'), @(461808, '4.7.2'), @(461308, '4.7.1'), @(460798, '4.7'),
    @(394802, '4.6.2'), @(394254, '4.6.1'), @(393295, '4.6'), @(379893, '4.5.2'), @(378675, '4.5.1'), @(378389, '4.5')
  )
  foreach ($n in $names) { if ($Release -ge $n[0]) { return $n[1] } }
  return 'older than 4.5'
}

# -SelfTest: what a commune IT officer checks after installing. Collects nothing, writes nothing.
function Invoke-SelfTest {
  $problems = @()
  Write-Line ('self-test, script version ' + $ScriptVersion)
  Write-Line ('PowerShell ' + $PSVersionTable.PSVersion.ToString() + ' (' + [string]$PSVersionTable.PSEdition + ')')
  $release = Get-DotNetRelease
  Write-Line ('.NET CLR ' + [System.Environment]::Version.ToString() + ', NDP v4 Full Release ' + $release + ' (' + (Get-DotNetName $release) + ')')
  if ($release -lt 378389) { $problems += '.NET Framework 4.5 or later is needed' }
  $tls = Enable-Tls12
  if ($tls) {
    Write-Line ('TLS 1.2: available (this process offers: ' + [string][System.Net.ServicePointManager]::SecurityProtocol + ')')
  } else {
    Write-Line 'TLS 1.2: NOT available (install .NET Framework 4.5 or later)'
    $problems += 'TLS 1.2 not available'
  }
  $v1 = Get-HmacHex (Get-SigningKey (Get-TokenParts $Vector1Token).Secret) ($Utf8.GetBytes($Vector1Body))
  $v2 = Get-HmacHex (Get-SigningKey (Get-TokenParts $Vector1Token).Secret) ($Utf8.GetBytes($Vector2Body))
  $ok1 = 'OK'
  if ($v1 -ne $Vector1Hmac) { $ok1 = 'MISMATCH'; $problems += 'HMAC test vector 1 differs' }
  $ok2 = 'OK'
  if ($v2 -ne $Vector2Hmac) { $ok2 = 'MISMATCH'; $problems += 'HMAC test vector 2 differs' }
  Write-Line ('HMAC test vector 1: ' + $v1 + ' ' + $ok1 + ' (docs/windows.md: ' + $Vector1Hmac + ')')
  Write-Line ('HMAC test vector 2: ' + $v2 + ' ' + $ok2)
  $who = 'no'
  if ($Elevated) { $who = 'yes' }
  Write-Line ('account: ' + $Identity.Name + ', administrator: ' + $who)
  if ($Run.ConfigPath) { Write-Line ('configuration: ' + $Run.ConfigPath + ', unit ' + $Run.Unit) } else { Write-Line 'configuration: none' }
  foreach ($note in $Run.Notes) { Write-Line ('note: ' + $note); $problems += $note }
  if ($null -ne $Run.Token) {
    Write-Line ('token: key id ' + $Run.Token.KeyId + ' (' + $Run.TokenPath + ')')
  } elseif ($Run.TokenError) {
    Write-Line ('token: ' + $Run.TokenError)
    $problems += 'token unreadable'
  } else {
    Write-Line 'token: none (captures are not signed; -Push and -OutDir need one)'
  }
  try {
    if ([System.IO.Directory]::Exists($Run.SpoolDir)) {
      $waiting = @(Get-ChildItem -LiteralPath $Run.SpoolDir -Filter '*.secscan' -File -Force).Count
      $refused = 0
      $rejectedDir = [System.IO.Path]::Combine($Run.SpoolDir, 'rejected')
      if ([System.IO.Directory]::Exists($rejectedDir)) { $refused = @(Get-ChildItem -LiteralPath $rejectedDir -Filter '*.secscan' -File -Force).Count }
      Write-Line ('spool: ' + $Run.SpoolDir + ', ' + $waiting + ' waiting, ' + $refused + ' refused by the collector')
    } else {
      Write-Line ('spool: ' + $Run.SpoolDir + ' (not created yet)')
    }
  } catch {
    Write-Line ('spool: ' + $Run.SpoolDir + ' cannot be read by this account (' + (Get-ErrorText $_.Exception) + ')')
  }
  if ($Run.PushUrl) {
    $bad = Test-CollectorUrl $Run.PushUrl
    if ($bad) {
      Write-Line ('collector: ' + $bad)
      $problems += 'collector URL'
    } else {
      $health = Get-HealthUrl $Run.PushUrl
      $answer = Invoke-Http 'GET' $health '' $null 15000
      if ($answer.Status -eq 200) {
        Write-Line ('collector: ' + $health + ' answers 200 ' + $answer.Detail)
      } elseif ($answer.Status -ne 0) {
        Write-Line ('collector: ' + $health + ' answers HTTP ' + $answer.Status + ' ' + $answer.Detail)
        $problems += 'collector unhealthy'
      } else {
        Write-Line ('collector: ' + $health + ' does not answer: ' + $answer.Network)
        $problems += 'collector not reached'
      }
    }
  } else {
    Write-Line 'collector: none configured'
  }
  if ($Run.OutDir) {
    $reach = 'not reachable by this account'
    if (Test-Path -LiteralPath $Run.OutDir -PathType Container) { $reach = 'reachable' } else { $problems += 'share not reachable' }
    Write-Line ('share: ' + $Run.OutDir + ' ' + $reach + ' (the scheduled task runs as SYSTEM: the share must let the domain computers write)')
  }
  if ($problems.Count -gt 0) {
    Write-Line ('self-test: PROBLEMS: ' + ($problems -join '; '))
    return 6
  }
  Write-Line 'self-test: OK'
  return 0
}

# Settings: the configuration file first, then the parameters given (they win).
if ($args.Count -gt 0) { Stop-Usage ('unknown argument: ' + ($args -join ' ') + ' (see the comment at the top of collect.ps1)') }
if ($Config) { Read-KitConfig $Config }
if ($TokenFile) { $Run.TokenPath = Resolve-FullPath $TokenFile }
if ($Push) { $Run.PushUrl = $Push }
if ($OutDir) { $Run.OutDir = $OutDir }
if ($Spool) { $Run.SpoolDir = Resolve-FullPath $Spool }
if (-not $Run.SpoolDir) { $Run.SpoolDir = [System.IO.Path]::Combine($StateDir, 'spool') }
if ($Run.OutDir) { $Run.OutDir = Resolve-FullPath $Run.OutDir }
if ($Run.MaxFiles -lt 1 -or $Run.MaxBytes -lt 1048576) { Stop-Usage 'spool limits: spool_max_files must be 1 or more and spool_max_mb 1 or more' }
if ($Run.TokenPath) { Read-UnitToken $Run.TokenPath }

if ($SelfTest) { exit (Invoke-SelfTest) }

if ($Run.TokenError) { Stop-Usage $Run.TokenError }
if (($Run.PushUrl -or $Run.OutDir) -and $null -eq $Run.Token) {
  Stop-Usage '-Push and -OutDir deliver signed captures only: give -TokenFile (or -Config with the kit''s token file)'
}
if ($Run.PushUrl) {
  $bad = Test-CollectorUrl $Run.PushUrl
  if ($bad) { Stop-Usage $bad }
  if (-not (Enable-Tls12)) { Stop-Usage '-Push needs TLS 1.2, which this PC''s .NET Framework lacks: install .NET Framework 4.5 or later' }
}
if ($OutFile -and [System.IO.Directory]::Exists((Resolve-FullPath $OutFile))) { Stop-Usage '-OutFile names a folder: use -OutDir for a folder' }
foreach ($note in $Run.Notes) {
  [Console]::Error.WriteLine('secscan: note: ' + $note)
  Write-Log ('note: ' + $note)
}

Invoke-Section 'system' {
  $os = Get-Cim 'Win32_OperatingSystem' | Select-Object -First 1
  $cs = Get-Cim 'Win32_ComputerSystem' | Select-Object -First 1
  $cpu = Get-Cim 'Win32_Processor' | Select-Object -First 1
  $bios = Get-Cim 'Win32_BIOS' | Select-Object -First 1
  $crypto = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Cryptography' 'MachineGuid'
  $nics = @(Get-Cim 'Win32_NetworkAdapterConfiguration' -Filter 'IPEnabled = TRUE' | ForEach-Object {
      [ordered]@{ description = $_.Description; mac = $_.MACAddress; ip = @($_.IPAddress) }
    })
  [ordered]@{
    hostname = [System.Environment]::MachineName
    os = [ordered]@{
      caption = $os.Caption
      version = $os.Version
      build_number = $os.BuildNumber
      product_type = $os.ProductType
      architecture = $os.OSArchitecture
      install_date = ConvertTo-Iso $os.InstallDate
      last_boot = ConvertTo-Iso $os.LastBootUpTime
    }
    current_version = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' $VersionValues
    computer = [ordered]@{
      manufacturer = $cs.Manufacturer
      model = $cs.Model
      domain = $cs.Domain
      part_of_domain = $cs.PartOfDomain
      workgroup = $cs.Workgroup
      total_memory = $cs.TotalPhysicalMemory
      logical_processors = $cs.NumberOfLogicalProcessors
      pc_system_type = $cs.PCSystemType
      hypervisor_present = $cs.HypervisorPresent
    }
    cpu = $cpu.Name
    bios_serial = $bios.SerialNumber
    machine_guid = $crypto.MachineGuid
    interfaces = $nics
  }
}

Invoke-Section 'securitycenter2' {
  $fields = 'displayName', 'instanceGuid', 'pathToSignedProductExe', 'pathToSignedReportingExe', 'productState', 'timestamp'
  [ordered]@{
    antivirus = @(Get-Cim 'AntiVirusProduct' 'root/SecurityCenter2' | Select-Object -Property $fields)
    firewall = @(Get-Cim 'FirewallProduct' 'root/SecurityCenter2' | Select-Object -Property $fields)
  }
}

Invoke-Section 'defender' {
  $s = Get-Cim 'MSFT_MpComputerStatus' 'root/Microsoft/Windows/Defender' | Select-Object -First 1
  if ($null -eq $s) { throw 'MSFT_MpComputerStatus returned nothing' }
  [ordered]@{
    AMServiceEnabled = $s.AMServiceEnabled
    AntivirusEnabled = $s.AntivirusEnabled
    AntispywareEnabled = $s.AntispywareEnabled
    RealTimeProtectionEnabled = $s.RealTimeProtectionEnabled
    BehaviorMonitorEnabled = $s.BehaviorMonitorEnabled
    IoavProtectionEnabled = $s.IoavProtectionEnabled
    OnAccessProtectionEnabled = $s.OnAccessProtectionEnabled
    IsTamperProtected = $s.IsTamperProtected
    AMRunningMode = $s.AMRunningMode
    AMProductVersion = $s.AMProductVersion
    AMEngineVersion = $s.AMEngineVersion
    AntivirusSignatureVersion = $s.AntivirusSignatureVersion
    AntivirusSignatureAge = $s.AntivirusSignatureAge
    AntivirusSignatureLastUpdated = ConvertTo-Iso $s.AntivirusSignatureLastUpdated
    QuickScanAge = $s.QuickScanAge
    FullScanAge = $s.FullScanAge
    ProductStatus = $s.ProductStatus
    ComputerState = $s.ComputerState
    DefenderSignaturesOutOfDate = $s.DefenderSignaturesOutOfDate
  }
}

Invoke-Section 'defender_exclusions' {
  $p = Get-Cim 'MSFT_MpPreference' 'root/Microsoft/Windows/Defender' | Select-Object -First 1
  $paths = @($p.ExclusionPath | Where-Object { $_ })
  $processes = @($p.ExclusionProcess | Where-Object { $_ })
  # Without administrator rights Defender answers with a placeholder instead of the list.
  if ((@($paths) + @($processes)) -match '^N/A') { Deny 'Defender shows exclusions to administrators only' }
  [ordered]@{ paths = $paths; processes = $processes }
}

Invoke-Section 'defender_threats' {
  [ordered]@{
    threats = @(Get-Cim 'MSFT_MpThreat' 'root/Microsoft/Windows/Defender' | ForEach-Object {
        [ordered]@{ name = $_.ThreatName; id = $_.ThreatID; severity = $_.SeverityID; active = $_.IsActive }
      })
  }
}

Invoke-Section 'services' {
  [ordered]@{
    services = @(Get-Cim 'Win32_Service' | ForEach-Object {
        [ordered]@{ name = $_.Name; display_name = $_.DisplayName; state = $_.State; start_mode = $_.StartMode; path = $_.PathName }
      })
  }
}

Invoke-Section 'processes' {
  [ordered]@{
    processes = @(Get-Cim 'Win32_Process' | ForEach-Object {
        [ordered]@{ name = $_.Name; path = $_.ExecutablePath; pid = $_.ProcessId }
      })
  }
}

Invoke-Section 'uninstall' {
  # root: which list the entry is in (the decoder names it registry_64 / registry_32 / registry_user)
  $roots = [ordered]@{
    hklm64 = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
    hklm32 = 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
    hkcu = 'HKCU:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
  }
  $entries = @()
  foreach ($rootName in $roots.Keys) {
    $root = $roots[$rootName]
    foreach ($sub in Get-RegSubKeyNames $root) {
      $v = Get-RegKey ($root + '\' + $sub) 'DisplayName', 'Publisher', 'DisplayVersion', 'InstallLocation', 'InstallDate'
      if ($null -ne $v -and $v.DisplayName) {
        # InstallDate as the installer wrote it (yyyymmdd by convention, not always): decoded in Python
        $entries += [ordered]@{
          name = $v.DisplayName; publisher = $v.Publisher; version = $v.DisplayVersion
          location = $v.InstallLocation; key = $sub; install_date = $v.InstallDate; root = $rootName
        }
      }
    }
  }
  [ordered]@{ entries = $entries }
}

Invoke-Section 'licensing' {
  $fields = 'ID', 'Name', 'Description', 'ApplicationID', 'PartialProductKey', 'ProductKeyChannel', 'LicenseStatus',
  'LicenseStatusReason', 'GracePeriodRemaining', 'LicenseFamily', 'LicenseIsAddon', 'KeyManagementServiceMachine',
  'KeyManagementServicePort', 'DiscoveredKeyManagementServiceMachineName', 'DiscoveredKeyManagementServiceMachinePort',
  'VLActivationInterval', 'VLRenewalInterval'
  $products = @(Get-Cim 'SoftwareLicensingProduct' -Filter 'PartialProductKey IS NOT NULL' | Select-Object -Property $fields)
  $svc = Get-Cim 'SoftwareLicensingService' | Select-Object -First 1
  # Never the full firmware key: only whether there is one and its last five characters.
  $oa3 = [string]$svc.OA3xOriginalProductKey
  $oa3Tail = $null
  if ($oa3.Length -ge 5) { $oa3Tail = $oa3.Substring($oa3.Length - 5) }
  [ordered]@{
    products = $products
    service = [ordered]@{
      Version = $svc.Version
      KeyManagementServiceMachine = $svc.KeyManagementServiceMachine
      KeyManagementServicePort = $svc.KeyManagementServicePort
      DiscoveredKeyManagementServiceMachineName = $svc.DiscoveredKeyManagementServiceMachineName
      VLActivationInterval = $svc.VLActivationInterval
      VLRenewalInterval = $svc.VLRenewalInterval
      OA3KeyPresent = ($oa3.Length -gt 0)
      OA3KeyLast5 = $oa3Tail
    }
  }
}

Invoke-Section 'office_ospp' {
  $fields = 'ID', 'Name', 'Description', 'ApplicationID', 'PartialProductKey', 'LicenseStatus', 'LicenseStatusReason',
  'GracePeriodRemaining', 'LicenseFamily', 'KeyManagementServiceMachine', 'KeyManagementServicePort',
  'DiscoveredKeyManagementServiceMachineName', 'VLActivationInterval', 'VLRenewalInterval'
  [ordered]@{
    products = @(Get-Cim 'OfficeSoftwareProtectionProduct' -Filter 'PartialProductKey IS NOT NULL' | Select-Object -Property $fields)
  }
}

Invoke-Section 'kms_registry' {
  $spp = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform'
  $keys = [ordered]@{}
  $keys[$spp] = Get-RegKey $spp $KmsValues
  # Per-application and per-SKU overrides (MAS KMS38 writes 127.0.0.2 here).
  foreach ($app in '55c92734-d682-4d71-983e-d6ec3f16059f', '0ff1ce15-a989-479d-af46-f275c6370663') {
    $appKey = $spp + '\' + $app
    $keys[$appKey] = Get-RegKey $appKey $KmsValues
    foreach ($sku in Get-RegSubKeyNames $appKey) { $keys[$appKey + '\' + $sku] = Get-RegKey ($appKey + '\' + $sku) $KmsValues }
  }
  foreach ($ospp in 'HKLM:\SOFTWARE\Microsoft\OfficeSoftwareProtectionPlatform', 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\OfficeSoftwareProtectionPlatform') {
    $keys[$ospp] = Get-RegKey $ospp $KmsValues
  }
  $found = [ordered]@{}
  foreach ($k in $keys.Keys) {
    $v = $keys[$k]
    if ($null -ne $v -and ($v.KeyManagementServiceName -or $v.KeyManagementServicePort)) {
      $found[$k] = [ordered]@{ KeyManagementServiceName = $v.KeyManagementServiceName; KeyManagementServicePort = $v.KeyManagementServicePort }
    }
  }
  [ordered]@{ keys = $found }
}

Invoke-Section 'ifeo' {
  $base = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options'
  $hooks = [ordered]@{}
  foreach ($exe in 'SppExtComObj.exe', 'sppsvc.exe', 'osppsvc.exe', 'SLsvc.exe') {
    $v = Get-RegKey ($base + '\' + $exe)
    if ($null -ne $v -and $v.Count -gt 0) { $hooks[$exe] = $v }
  }
  [ordered]@{ keys = $hooks }
}

Invoke-Section 'artefact_files' {
  $present = @()
  foreach ($p in $ArtefactPaths) {
    $full = [System.Environment]::ExpandEnvironmentVariables($p)
    if (Test-Path -LiteralPath $full) { $present += $full }
  }
  [ordered]@{ checked = $ArtefactPaths.Count; present = $present }
}

Invoke-Section 'scheduled_tasks' {
  # The Task Scheduler COM object works from Windows 7 on; Get-ScheduledTask needs Windows 8.
  $scheduler = New-Object -ComObject 'Schedule.Service'
  $scheduler.Connect()
  $tasks = @()
  $unreadable = 0
  $folders = New-Object System.Collections.Queue
  $folders.Enqueue($scheduler.GetFolder('\'))
  while ($folders.Count -gt 0) {
    $folder = $folders.Dequeue()
    try {
      foreach ($sub in $folder.GetFolders(0)) { $folders.Enqueue($sub) }
      $folderTasks = @($folder.GetTasks(1))
    } catch {
      # A folder this account may not read: count it, keep going.
      $unreadable += 1
      continue
    }
    foreach ($task in $folderTasks) {
      $actions = @()
      try {
        foreach ($action in $task.Definition.Actions) {
          if ($action.Type -eq 0) { $actions += (([string]$action.Path) + ' ' + ([string]$action.Arguments)).Trim() }
        }
      } catch { $actions += '?' }
      $tasks += [ordered]@{ path = $task.Path; enabled = [bool]$task.Enabled; actions = $actions }
    }
  }
  [ordered]@{ tasks = $tasks; complete = ($Elevated -and $unreadable -eq 0); unreadable_folders = $unreadable }
}

Invoke-Section 'hosts_file' {
  $path = Join-Path $env:SystemRoot 'System32\drivers\etc\hosts'
  $lines = @()
  if (Test-Path -LiteralPath $path) {
    $lines = @(Get-Content -LiteralPath $path -TotalCount 5000 | ForEach-Object { ([string]$_).Trim() } |
        Where-Object { $_ -and -not $_.StartsWith('#') } | Select-Object -First 1000)
  }
  [ordered]@{ lines = $lines }
}

Invoke-Section 'firewall' {
  $profiles = @()
  $source = 'Get-NetFirewallProfile'
  try {
    $profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
        [ordered]@{
          name = [string]$_.Name; enabled = [string]$_.Enabled
          default_inbound = [string]$_.DefaultInboundAction; default_outbound = [string]$_.DefaultOutboundAction
        }
      })
  } catch [System.Management.Automation.CommandNotFoundException] {
    # Windows 7: the registry holds the same switch (GPO values win over local ones).
    $source = 'registry'
    $base = 'HKLM:\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy'
    $policy = 'HKLM:\SOFTWARE\Policies\Microsoft\WindowsFirewall'
    $names = [ordered]@{ Domain = 'DomainProfile'; Private = 'StandardProfile'; Public = 'PublicProfile' }
    foreach ($n in $names.Keys) {
      $local = Get-RegKey ($base + '\' + $names[$n]) 'EnableFirewall', 'DefaultInboundAction'
      $gpo = Get-RegKey ($policy + '\' + $names[$n]) 'EnableFirewall', 'DefaultInboundAction'
      $profiles += [ordered]@{
        name = $n; enable_firewall = $local.EnableFirewall; policy_enable_firewall = $gpo.EnableFirewall
        default_inbound_action = $local.DefaultInboundAction; policy_default_inbound_action = $gpo.DefaultInboundAction
      }
    }
  }
  [ordered]@{ source = $source; profiles = $profiles }
}

Invoke-Section 'hotfixes' {
  [ordered]@{
    hotfixes = @(Get-Cim 'Win32_QuickFixEngineering' | ForEach-Object {
        $iso = $null
        $installed = [string]$_.InstalledOn
        $parsed = [datetime]::MinValue
        $styles = [System.Globalization.DateTimeStyles]::AssumeUniversal
        if ($installed -and [datetime]::TryParse($installed, [System.Globalization.CultureInfo]::InvariantCulture, $styles, [ref]$parsed)) {
          $iso = $parsed.ToUniversalTime().ToString('yyyy-MM-dd')
        }
        [ordered]@{ id = $_.HotFixID; description = $_.Description; installed_on = $installed; installed_on_iso = $iso }
      })
  }
}

Invoke-Section 'windows_update' {
  # The documented Automatic Updates policy values ("Configure Automatic Updates using Registry
  # Editor", WSUS docs): NoAutoUpdate/AUOptions/UseWUServer in ...\WindowsUpdate\AU, WUServer in
  # ...\WindowsUpdate. The local (Control Panel) setting of Windows 7/8.1 and the service start type
  # (2 automatic, 3 manual, 4 disabled) come along, and the Windows Update Agent's own reading of the
  # effective setting (IAutomaticUpdatesSettings.NotificationLevel) where its COM object answers.
  $wu = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate'
  $level = $null
  $levelError = $null
  try {
    $level = [int](New-Object -ComObject 'Microsoft.Update.AutoUpdate').Settings.NotificationLevel
  } catch {
    $levelError = ([string]$_.Exception.Message).Trim()
  }
  [ordered]@{
    policy = Get-RegKey $wu 'WUServer', 'WUStatusServer', 'DisableWindowsUpdateAccess'
    policy_au = Get-RegKey ($wu + '\AU') 'NoAutoUpdate', 'AUOptions', 'UseWUServer', 'ScheduledInstallDay', 'ScheduledInstallTime'
    local_au = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update' 'AUOptions'
    wuauserv = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Services\wuauserv' 'Start'
    notification_level = $level
    notification_level_error = $levelError
  }
}

Invoke-Section 'listening_ports' {
  # Get-NetTCPConnection/Get-NetUDPEndpoint exist from Windows 8/Server 2012 on; Windows 7 (even with
  # WMF 5.1) lacks them: netstat -ano is read instead and parsed by secscan (the numbers and addresses
  # do not depend on the display language). Filtering by State here rather than with -State Listen,
  # which throws when nothing matches.
  $source = 'Get-NetTCPConnection'
  $fallbackReason = $null
  $tcp = @()
  $udp = @()
  $netstat = @()
  try {
    $tcp = @(Get-NetTCPConnection | Where-Object { [string]$_.State -eq 'Listen' } | ForEach-Object {
        [ordered]@{ address = [string]$_.LocalAddress; port = [int]$_.LocalPort; pid = [int]$_.OwningProcess }
      })
    $udp = @(Get-NetUDPEndpoint | ForEach-Object {
        [ordered]@{ address = [string]$_.LocalAddress; port = [int]$_.LocalPort; pid = [int]$_.OwningProcess }
      })
  } catch {
    $source = 'netstat'
    $fallbackReason = ([string]$_.Exception.Message).Trim()
    $tcp = @()
    $udp = @()
    $netstat = @(& netstat.exe -ano | ForEach-Object { [string]$_ })
    if ($LASTEXITCODE -ne 0) { throw ('netstat -ano failed (exit code ' + $LASTEXITCODE + ')') }
  }
  [ordered]@{ source = $source; fallback_reason = $fallbackReason; tcp = $tcp; udp = $udp; netstat = $netstat }
}

Invoke-Section 'smb' {
  $server = $null
  $serverError = $null
  try {
    $c = Get-SmbServerConfiguration
    $server = [ordered]@{ EnableSMB1Protocol = $c.EnableSMB1Protocol; EnableSMB2Protocol = $c.EnableSMB2Protocol }
  } catch {
    $serverError = ([string]$_.Exception.Message).Trim()
  }
  [ordered]@{
    server_configuration = $server
    server_configuration_error = $serverError
    lanman_server = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters' 'SMB1', 'SMB2'
    mrxsmb10 = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Services\mrxsmb10' 'Start'
  }
}

Invoke-Section 'rdp_autorun' {
  $ts = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server' 'fDenyTSConnections'
  $rdpTcp = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp' 'UserAuthentication', 'PortNumber'
  $tsPolicy = Get-RegKey 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services' 'fDenyTSConnections', 'UserAuthentication'
  $explorer = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer' 'NoDriveTypeAutoRun', 'NoAutorun'
  $userExplorer = Get-RegKey 'HKCU:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer' 'NoDriveTypeAutoRun'
  [ordered]@{
    fDenyTSConnections = $ts.fDenyTSConnections
    policy_fDenyTSConnections = $tsPolicy.fDenyTSConnections
    UserAuthentication = $rdpTcp.UserAuthentication
    policy_UserAuthentication = $tsPolicy.UserAuthentication
    PortNumber = $rdpTcp.PortNumber
    NoDriveTypeAutoRun = $explorer.NoDriveTypeAutoRun
    NoAutorun = $explorer.NoAutorun
    user_NoDriveTypeAutoRun = $userExplorer.NoDriveTypeAutoRun
  }
}

Invoke-Section 'local_admins' {
  # By SID: the group name is localized ("Administrators" differs per display language).
  $method = 'Get-LocalGroupMember'
  $members = @()
  try {
    $members = @(Get-LocalGroupMember -SID 'S-1-5-32-544' | ForEach-Object {
        [ordered]@{ name = $_.Name; sid = $_.SID.Value; class = [string]$_.ObjectClass; source = [string]$_.PrincipalSource }
      })
  } catch {
    # Not on Windows 7, and it throws on orphaned SIDs: ask WMI instead.
    $method = 'Win32_GroupUser'
    $group = Get-Cim 'Win32_Group' -Filter "LocalAccount = TRUE AND SID = 'S-1-5-32-544'" | Select-Object -First 1
    $members = @(Get-CimAssociatedInstance -InputObject $group -Association 'Win32_GroupUser' -OperationTimeoutSec $CimTimeout | ForEach-Object {
        [ordered]@{
          name = ([string]$_.Domain + '\' + [string]$_.Name); sid = $_.SID
          class = $_.CimClass.CimClassName; local = $_.LocalAccount
        }
      })
  }
  [ordered]@{ method = $method; members = $members }
}

Invoke-Section 'local_users' {
  [ordered]@{
    users = @(Get-Cim 'Win32_UserAccount' -Filter 'LocalAccount = TRUE' | ForEach-Object {
        [ordered]@{ name = $_.Name; sid = $_.SID; disabled = $_.Disabled }
      })
  }
}

Invoke-Section 'secedit' {
  if (-not $Elevated) { Deny 'secedit /export needs administrator rights' }
  $tmp = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'secscan-' + [guid]::NewGuid().ToString() + '.inf')
  try {
    $null = & secedit.exe /export /cfg $tmp /areas SECURITYPOLICY /quiet
    if (-not (Test-Path -LiteralPath $tmp)) { throw ('secedit /export wrote nothing (exit code ' + $LASTEXITCODE + ')') }
    # The file is UTF-16LE; it travels as bytes and is decoded by secscan.
    [ordered]@{ inf_base64 = [Convert]::ToBase64String([System.IO.File]::ReadAllBytes($tmp)) }
  } finally {
    Remove-Item -LiteralPath $tmp -Force -ErrorAction SilentlyContinue
  }
}

Invoke-Section 'net_accounts' {
  # net.exe writes in the OEM code page; read it with that code page so Vietnamese labels survive.
  $oem = [System.Text.Encoding]::GetEncoding([System.Globalization.CultureInfo]::CurrentCulture.TextInfo.OEMCodePage)
  $saved = [Console]::OutputEncoding
  try {
    try { [Console]::OutputEncoding = $oem } catch { $null = $_ }
    # No 2>&1: with ErrorActionPreference Stop, PS 5.1 turns the first stderr line into an exception.
    $lines = @(& net.exe accounts | ForEach-Object { [string]$_ })
  } finally {
    try { [Console]::OutputEncoding = $saved } catch { $null = $_ }
  }
  if ($LASTEXITCODE -ne 0) { throw ('net accounts failed (exit code ' + $LASTEXITCODE + '): ' + ($lines -join ' ')) }
  [ordered]@{ lines = $lines; culture = [System.Globalization.CultureInfo]::CurrentUICulture.Name }
}

Invoke-Section 'bitlocker' {
  # CIM rather than Get-BitLockerVolume: the BitLocker module is missing on Home editions.
  $fields = 'DriveLetter', 'ProtectionStatus', 'ConversionStatus', 'EncryptionMethod', 'VolumeType'
  [ordered]@{
    system_drive = $env:SystemDrive
    volumes = @(Get-Cim 'Win32_EncryptableVolume' 'root/CIMV2/Security/MicrosoftVolumeEncryption' | Select-Object -Property $fields)
  }
}

Invoke-Section 'screen_lock' {
  $users = @()
  foreach ($sid in Get-RegSubKeyNames 'Registry::HKEY_USERS') {
    if ($sid -notmatch '^S-1-5-21-[-0-9]+$') { continue }
    $account = $null
    try { $account = (New-Object System.Security.Principal.SecurityIdentifier($sid)).Translate([System.Security.Principal.NTAccount]).Value } catch { $account = $null }
    $users += [ordered]@{
      sid = $sid
      account = $account
      desktop = Get-RegKey ('Registry::HKEY_USERS\' + $sid + '\Control Panel\Desktop') $ScreenValues
      policy = Get-RegKey ('Registry::HKEY_USERS\' + $sid + '\Software\Policies\Microsoft\Windows\Control Panel\Desktop') $ScreenValues
    }
  }
  $system = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' 'InactivityTimeoutSecs'
  [ordered]@{ users = $users; InactivityTimeoutSecs = $system.InactivityTimeoutSecs }
}


$Finished = [DateTime]::UtcNow
$Capture = [ordered]@{
  schema = 'secscan.windows-capture/1'
  script_version = $ScriptVersion
  capture_id = [guid]::NewGuid().ToString()
  hostname = [System.Environment]::MachineName
  started_at = $Started.ToString('o')
  finished_at = $Finished.ToString('o')
  duration_ms = [int]($Finished - $Started).TotalMilliseconds
  powershell = [ordered]@{ version = $PSVersionTable.PSVersion.ToString(); edition = [string]$PSVersionTable.PSEdition }
  elevated = $Elevated
  user = $Identity.Name
  sections = $Sections
}
$Json = ConvertTo-Json -InputObject $Capture -Depth 12 -Compress

if (-not $OutFile -and -not $Run.PushUrl -and -not $Run.OutDir) {
  [Console]::Out.Write($Json)
  exit 0
}

# The body is the JSON exactly as written (UTF-8, no BOM); the signature covers these bytes.
$Body = $Utf8.GetBytes($Json)
$Signed = $null
if ($null -ne $Run.Token) { $Signed = New-Envelope $Body $Run.Token }
$SafeHost = [regex]::Replace([System.Environment]::MachineName, '[^A-Za-z0-9-]', '_')
if ($SafeHost.Length -gt 63) { $SafeHost = $SafeHost.Substring(0, 63) }
$FileName = $SafeHost + '_' + $Started.ToString("yyyyMMdd'T'HHmmss'Z'", $Invariant) + '_' + $Capture.capture_id + '.secscan'

if ($OutFile) {
  # UTF-8 without BOM, whatever the PowerShell version (`> file` in 5.1 would write UTF-16).
  $target = Resolve-FullPath $OutFile
  try {
    if ($null -ne $Signed) { Write-FileAtomic $target $Signed } else { Write-FileAtomic $target $Body }
    $kind = 'capture'
    if ($null -ne $Signed) { $kind = 'signed capture' }
    Write-Line ($kind + ' written to ' + $target)
  } catch {
    Write-Event ('could not write ' + $target + ': ' + (Get-ErrorText $_.Exception))
    Set-ExitCode 5
  }
}

$Reached = $false
if ($Run.PushUrl) {
  $spoolDir = $null
  try {
    $spoolDir = Open-Spool
    Write-FileAtomic ([System.IO.Path]::Combine($spoolDir, $FileName)) $Signed
    Limit-Envelopes $spoolDir $FileName 'spool'
  } catch {
    Write-Event ('could not spool the capture in ' + $Run.SpoolDir + ': ' + (Get-ErrorText $_.Exception))
    Set-ExitCode 5
    $spoolDir = $null
  }
  if ($null -ne $spoolDir) {
    try {
      $sent = Send-Spool $spoolDir
      $Reached = ($sent.Delivered -contains $FileName) -or ($sent.Rejected -contains $FileName)
      if ($sent.Delivered.Count -gt 0) { Write-Event ('delivered ' + $sent.Delivered.Count + ' capture(s) to ' + $Run.PushUrl) }
      if ($sent.Rejected.Count -gt 0) { Set-ExitCode 4 }
      if ($sent.Error) { Set-ExitCode 3 }
    } catch {
      Write-Event ('push stopped: ' + (Get-ErrorText $_.Exception) + '; the captures stay in ' + $spoolDir)
      Set-ExitCode 3
    }
  }
}

# The share: always when there is no collector; with a collector, only when this run's capture did
# not reach it (it is also still in the spool; the collector stores a capture once).
if ($Run.OutDir -and -not $Reached) {
  $target = [System.IO.Path]::Combine($Run.OutDir, $FileName)
  try {
    Write-FileAtomic $target $Signed
    Write-Event ('signed capture written to ' + $target)
  } catch {
    Write-Event ('could not write to the share ' + $Run.OutDir + ': ' + (Get-ErrorText $_.Exception))
    Set-ExitCode 5
  }
}

exit $Run.Exit
