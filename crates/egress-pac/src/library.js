// The PAC functions defined in JavaScript, from the Netscape specification
// and Microsoft's IPv6 extensions. dnsResolve, dnsResolveEx, myIpAddress,
// myIpAddressEx, shExpMatch, isInNetEx, sortIpAddressList and alert are
// egress's own (native) functions.

function isPlainHostName(host) {
  return String(host).indexOf(".") < 0;
}

function dnsDomainIs(host, domain) {
  host = String(host);
  domain = String(domain);
  return host.length >= domain.length &&
    host.substring(host.length - domain.length) === domain;
}

function localHostOrDomainIs(host, hostdom) {
  host = String(host);
  hostdom = String(hostdom);
  return host === hostdom ||
    (host.indexOf(".") < 0 && hostdom.indexOf(host + ".") === 0);
}

function isResolvable(host) {
  return dnsResolve(host) !== null;
}

function isResolvableEx(host) {
  return dnsResolveEx(host) !== "";
}

function dnsDomainLevels(host) {
  return String(host).split(".").length - 1;
}

function getClientVersion() {
  return "1.0";
}

// An IPv4 address in dotted form as a 32-bit number, or null.
function egressIpv4(text) {
  var parts = String(text).split(".");
  if (parts.length !== 4) {
    return null;
  }
  var value = 0;
  for (var i = 0; i < 4; i++) {
    if (!/^[0-9]{1,3}$/.test(parts[i]) || Number(parts[i]) > 255) {
      return null;
    }
    value = value * 256 + Number(parts[i]);
  }
  return value;
}

function isInNet(ipaddr, pattern, mask) {
  var address = egressIpv4(ipaddr);
  if (address === null) {
    var resolved = dnsResolve(ipaddr);
    if (resolved === null) {
      return false;
    }
    address = egressIpv4(resolved);
  }
  var p = egressIpv4(pattern);
  var m = egressIpv4(mask);
  if (address === null || p === null || m === null) {
    return false;
  }
  // Bitwise operators work on signed 32-bit values: compare them unsigned.
  return ((address & m) >>> 0) === ((p & m) >>> 0);
}

var egressDays = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
var egressMonths = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

// The arguments without a trailing "GMT", and whether it was there.
function egressGmt(args) {
  var list = Array.prototype.slice.call(args);
  var gmt = list.length > 0 && list[list.length - 1] === "GMT";
  if (gmt) {
    list.pop();
  }
  return { list: list, gmt: gmt };
}

function weekdayRange() {
  var a = egressGmt(arguments);
  var now = new Date();
  var today = a.gmt ? now.getUTCDay() : now.getDay();
  var first = egressDays.indexOf(a.list[0]);
  if (first < 0) {
    return false;
  }
  if (a.list.length < 2) {
    return today === first;
  }
  var last = egressDays.indexOf(a.list[1]);
  if (last < 0) {
    return false;
  }
  return first <= last ? (today >= first && today <= last) : (today >= first || today <= last);
}

// Compares [year, month, day] (or a shorter prefix of units) lists.
function egressInRange(value, low, high) {
  var key = function (v) {
    var k = 0;
    for (var i = 0; i < v.length; i++) {
      k = k * 10000 + v[i];
    }
    return k;
  };
  var v = key(value), l = key(low), h = key(high);
  return l <= h ? (v >= l && v <= h) : (v >= l || v <= h);
}

function dateRange() {
  var a = egressGmt(arguments);
  var now = new Date();
  var parts = {
    day: a.gmt ? now.getUTCDate() : now.getDate(),
    month: a.gmt ? now.getUTCMonth() : now.getMonth(),
    year: a.gmt ? now.getUTCFullYear() : now.getFullYear()
  };
  // Each argument is a day (1-31), a month name, or a year (> 31).
  var kinds = [];
  var values = [];
  for (var i = 0; i < a.list.length; i++) {
    var x = a.list[i];
    if (typeof x === "string" && egressMonths.indexOf(x) >= 0) {
      kinds.push("month");
      values.push(egressMonths.indexOf(x));
    } else if (Number(x) > 31) {
      kinds.push("year");
      values.push(Number(x));
    } else if (Number(x) >= 1) {
      kinds.push("day");
      values.push(Number(x));
    } else {
      return false;
    }
  }
  if (values.length === 1) {
    return parts[kinds[0]] === values[0];
  }
  if (values.length % 2 !== 0) {
    return false;
  }
  var half = values.length / 2;
  var order = ["year", "month", "day"];
  var units = kinds.slice(0, half);
  units.sort(function (x, y) { return order.indexOf(x) - order.indexOf(y); });
  var pick = function (start) {
    var out = [];
    for (var u = 0; u < units.length; u++) {
      out.push(values[start + kinds.slice(start, start + half).indexOf(units[u])]);
    }
    return out;
  };
  var current = [];
  for (var u = 0; u < units.length; u++) {
    current.push(parts[units[u]]);
  }
  return egressInRange(current, pick(0), pick(half));
}

function timeRange() {
  var a = egressGmt(arguments);
  var now = new Date();
  var h = a.gmt ? now.getUTCHours() : now.getHours();
  var m = a.gmt ? now.getUTCMinutes() : now.getMinutes();
  var s = a.gmt ? now.getUTCSeconds() : now.getSeconds();
  var n = a.list.map(Number);
  switch (n.length) {
    case 1: return h === n[0];
    case 2: return egressInRange([h], [n[0]], [n[1]]);
    case 4: return egressInRange([h, m], [n[0], n[1]], [n[2], n[3]]);
    case 6: return egressInRange([h, m, s], [n[0], n[1], n[2]], [n[3], n[4], n[5]]);
    default: return false;
  }
}
